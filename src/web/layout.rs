//! The frame shared by the pages: head, header with the language switch, and footer.

use maud::{DOCTYPE, Markup, html};

use super::assets;
use super::i18n::Lang;

/// What a page puts into the shared frame.
pub struct Frame<'a> {
    pub lang: Lang,
    pub title: &'a str,
    /// Query string for the language links, without `hl`; `None` on pages where the links
    /// should only switch language.
    pub query_without_hl: &'a str,
    /// Path the language links point to.
    pub path: &'a str,
    /// Extra elements for `<head>`, such as JSON-LD or `noindex`.
    pub head: Markup,
    pub body: Markup,
}

/// Renders a whole HTML document.
pub fn page(frame: Frame) -> Markup {
    let texts = frame.lang.texts();
    html! {
        (DOCTYPE)
        html lang=(frame.lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (frame.title) " · multifresque" }
                meta name="description" content=(texts.search_intro);
                link rel="icon" href=(assets::url("favicon.svg")) type="image/svg+xml";
                link rel="stylesheet" href=(assets::url("style.css"));
                (frame.head)
            }
            body {
                a class="skip-link" href="#main" { (texts.skip_to_content) }
                header class="site-header" {
                    a class="brand" href={ "/?hl=" (frame.lang.code()) } {
                        span class="brand-name" { "multifresque" }
                        span class="brand-tagline" { (texts.site_tagline) }
                    }
                    nav class="languages" aria-label=(texts.interface_language) {
                        ul {
                            @for lang in Lang::ALL {
                                li {
                                    @if lang == frame.lang {
                                        span aria-current="true" lang=(lang.code()) { (lang.native_name()) }
                                    } @else {
                                        a href=(language_link(frame.path, frame.query_without_hl, lang))
                                          hreflang=(lang.code()) lang=(lang.code()) {
                                            (lang.native_name())
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                main id="main" tabindex="-1" { (frame.body) }
                footer class="site-footer" {
                    p {
                        (texts.footer_places) " " (texts.footer_map) " "
                        (texts.footer_software)
                    }
                }
            }
        }
    }
}

fn language_link(path: &str, query_without_hl: &str, lang: Lang) -> String {
    if query_without_hl.is_empty() {
        format!("{path}?hl={}", lang.code())
    } else {
        format!("{path}?{query_without_hl}&hl={}", lang.code())
    }
}
