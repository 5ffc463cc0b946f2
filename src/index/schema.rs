//! The index schema, the French analyzer and the mapping from an [`Event`] to a tantivy
//! document.

use tantivy::TantivyDocument;
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::tokenizer::{
    AsciiFoldingFilter, Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer,
    TextAnalyzer,
};

use crate::catalog::Catalog;
use crate::event::Event;

/// Version of the schema and of the analysis. Bump it whenever a field, a field option or
/// the analyzer changes: an index written with another version is recreated at open and
/// rebuilt from the store.
pub const SCHEMA_VERSION: u32 = 2;

/// Name under which [`french_analyzer`] is registered in the index.
pub const FRENCH_TOKENIZER: &str = "fr_folded_stem";

/// Tokens longer than this many bytes are dropped: they are URLs, hashes or base64, never
/// words a participant types.
pub const MAX_TOKEN_BYTES: usize = 40;

/// Handles of every field of the schema.
#[derive(Debug, Clone, Copy)]
pub struct Fields {
    /// Global event id, stored, and fast for the id tie-break of the sort.
    pub id: Field,
    /// Source ids of every member of a merged event, indexed only, for deleting the
    /// documents that hold one source's events.
    pub source: Field,
    pub workshop: Field,
    pub attendance: Field,
    pub audience: Field,
    /// ISO 639-1 codes, one value each; absent when the event declares none.
    pub languages: Field,
    pub country: Field,
    /// Start instant, UTC seconds since the Unix epoch.
    pub start: Field,
    /// WGS 84 degrees; absent when the event has no position.
    pub latitude: Field,
    /// WGS 84 degrees; absent when the event has no position.
    pub longitude: Field,
    pub title: Field,
    pub description: Field,
    /// Location name, street, city and region.
    pub place: Field,
    /// French and English names of the workshop family.
    pub family: Field,
    /// The whole event as JSON, so search returns events without reading the store.
    pub event: Field,
}

impl Fields {
    /// The full-text fields a query word may match.
    pub fn text_fields(&self) -> [Field; 4] {
        [self.title, self.description, self.place, self.family]
    }
}

/// Builds the schema and returns it with its field handles.
pub fn build_schema() -> (Schema, Fields) {
    let mut builder = Schema::builder();

    // Raw keyword fields are fast because the collector filters and counts facets on them,
    // and indexed so that term queries can select them too.
    let keyword = STRING | FAST;
    // Positions are not indexed: queries are bags of words, never phrases.
    let text = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(FRENCH_TOKENIZER)
            .set_index_option(IndexRecordOption::WithFreqs),
    );

    let fields = Fields {
        id: builder.add_text_field("id", STRING | STORED | FAST),
        source: builder.add_text_field("source", STRING),
        workshop: builder.add_text_field("workshop", keyword.clone()),
        attendance: builder.add_text_field("attendance", keyword.clone()),
        audience: builder.add_text_field("audience", keyword.clone()),
        languages: builder.add_text_field("languages", keyword.clone()),
        country: builder.add_text_field("country", keyword),
        start: builder.add_i64_field("start", INDEXED | FAST),
        latitude: builder.add_f64_field("latitude", INDEXED | FAST),
        longitude: builder.add_f64_field("longitude", INDEXED | FAST),
        title: builder.add_text_field("title", text.clone()),
        description: builder.add_text_field("description", text.clone()),
        place: builder.add_text_field("place", text.clone()),
        family: builder.add_text_field("family", text),
        event: builder.add_bytes_field("event", STORED),
    };
    (builder.build(), fields)
}

/// The analyzer of every full-text field and of query text: words split on anything that
/// is not a letter or digit, lower-cased, folded to ASCII (so `numerique` finds
/// "Numérique") and reduced by the Snowball French stemmer.
pub fn french_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(MAX_TOKEN_BYTES))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .filter(Stemmer::new(Language::French))
        .build()
}

/// Converts an event to its document.
///
/// # Errors
///
/// Returns the serde_json error when the event cannot be serialized, which only happens
/// for a non-finite float such as a NaN price.
pub fn to_document(
    fields: &Fields,
    catalog: &Catalog,
    event: &Event,
) -> Result<TantivyDocument, serde_json::Error> {
    let json = serde_json::to_vec(event)?;
    let mut document = TantivyDocument::default();

    document.add_text(fields.id, &event.id);
    document.add_text(fields.source, &event.source);
    for link in event
        .links
        .iter()
        .filter(|link| link.source != event.source)
    {
        document.add_text(fields.source, &link.source);
    }
    document.add_text(fields.workshop, &event.workshop);
    document.add_text(fields.attendance, event.attendance.as_str());
    document.add_text(fields.audience, event.audience.as_str());
    for language in &event.languages {
        document.add_text(fields.languages, language);
    }
    if let Some(country) = &event.location.country {
        document.add_text(fields.country, country);
    }

    document.add_i64(fields.start, event.start_utc().timestamp());
    // Both coordinates or none: a lone latitude cannot be searched by distance.
    if let Some((latitude, longitude)) = event.location.coordinates() {
        document.add_f64(fields.latitude, latitude);
        document.add_f64(fields.longitude, longitude);
    }

    document.add_text(fields.title, &event.title);
    document.add_text(fields.description, &event.description);
    let location = &event.location;
    for part in [
        &location.name,
        &location.street,
        &location.city,
        &location.region,
    ]
    .into_iter()
    .flatten()
    {
        document.add_text(fields.place, part);
    }
    document.add_text(fields.family, catalog.search_names(&event.workshop));

    document.add_bytes(fields.event, &json);
    Ok(document)
}
