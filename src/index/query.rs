//! The text part of a search as a tantivy query.
//!
//! User text never reaches tantivy's query parser: it is split by the index analyzer and
//! each resulting term is matched literally, so operators, field prefixes, wildcards and
//! unbalanced quotes are plain words.

use tantivy::Term;
use tantivy::query::{BooleanQuery, EmptyQuery, Query, TermQuery};
use tantivy::schema::IndexRecordOption;
use tantivy::tokenizer::TextAnalyzer;

use super::schema::{Fields, MAX_TOKEN_BYTES};

/// Query words beyond this count are ignored, which bounds the cost of a pasted paragraph.
const MAX_QUERY_WORDS: usize = 16;

/// Builds the query for `text`: every analyzed word must match one of the full-text
/// fields, scored by BM25. Returns `None` when the text contains no word, such as `"*"`.
/// A word too long to be indexed matches nothing, instead of being dropped silently.
pub fn text_query(
    text: &str,
    fields: &Fields,
    analyzer: &mut TextAnalyzer,
) -> Option<Box<dyn Query>> {
    let too_long = text
        .split(|c: char| !c.is_alphanumeric())
        .any(|word| word.len() >= MAX_TOKEN_BYTES);
    if too_long {
        return Some(Box::new(EmptyQuery));
    }

    let words = analyze(text, analyzer);
    if words.is_empty() {
        return None;
    }

    let all_words: Vec<Box<dyn Query>> =
        words.iter().map(|word| word_query(fields, word)).collect();
    Some(Box::new(BooleanQuery::intersection(all_words)))
}

/// Splits text into distinct index terms, at most [`MAX_QUERY_WORDS`] of them.
fn analyze(text: &str, analyzer: &mut TextAnalyzer) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    let mut stream = analyzer.token_stream(text);
    while stream.advance() {
        let word = &stream.token().text;
        if words.len() == MAX_QUERY_WORDS {
            tracing::debug!(
                max = MAX_QUERY_WORDS,
                "query words beyond the maximum ignored"
            );
            break;
        }
        if !words.contains(word) {
            words.push(word.clone());
        }
    }
    words
}

/// Matches one term in any full-text field.
fn word_query(fields: &Fields, word: &str) -> Box<dyn Query> {
    let alternatives: Vec<Box<dyn Query>> = fields
        .text_fields()
        .into_iter()
        .map(|field| {
            let term = Term::from_field_text(field, word);
            Box::new(TermQuery::new(term, IndexRecordOption::WithFreqs)) as Box<dyn Query>
        })
        .collect();
    Box::new(BooleanQuery::union(alternatives))
}
