//! OpenFresque feed v1 adapter.

use super::{AdapterError, Context, Parsed};

pub fn parse(_bytes: &[u8], _context: &Context) -> Result<Parsed, AdapterError> {
    Ok(Parsed::default())
}
