//! iCalendar (RFC 5545) adapter.

use super::{AdapterError, Context, Parsed};

/// Reads one calendar.
///
/// # Errors
///
/// Returns [`AdapterError::WrongFormat`] when the bytes hold no `VCALENDAR`.
pub fn parse(_bytes: &[u8], _context: &Context) -> Result<Parsed, AdapterError> {
    // TODO: being written.
    Ok(Parsed::default())
}
