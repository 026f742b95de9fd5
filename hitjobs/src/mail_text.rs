//! The texts of the mails the workers write, from `templates/mail/`.
//!
//! A mail is `mail/<name>.<language>.txt`: its first line is `Subject: `
//! and the subject, then a blank line, then the plain-text body; beside it
//! may be `mail/<name>.<language>.html`, the same mail as HTML. The
//! templates are minijinja, HTML-escaped in `.html` files only. rust-embed
//! reads the folder from disk in debug builds and embeds it in release
//! builds, as hitweb does with its pages.

use std::sync::LazyLock;

use anyhow::{Context as _, anyhow};
use minijinja::{Environment, UndefinedBehavior};
use rust_embed::RustEmbed;
use serde::Serialize;

#[derive(RustEmbed)]
#[folder = "../templates/mail"]
struct MailTemplateFiles;

static ENV: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_auto_escape_callback(|name| {
        if name.ends_with(".html") {
            minijinja::AutoEscape::Html
        } else {
            minijinja::AutoEscape::None
        }
    });
    env.set_loader(|name| {
        Ok(MailTemplateFiles::get(name).map(|f| String::from_utf8_lossy(&f.data).into_owned()))
    });
    env
});

/// A rendered mail text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MailText {
    pub subject: String,
    pub body: String,
}

/// Whether the mail `name` is written in `lang`.
pub fn has_language(name: &str, lang: &str) -> bool {
    MailTemplateFiles::get(&format!("{name}.{lang}.txt")).is_some()
}

/// Renders `mail/<name>.<lang>.txt`, falling back to English when there
/// is no such language.
///
/// # Errors
/// No template of that name, no subject line, or a rendering error.
pub fn render<C: Serialize>(name: &str, lang: &str, context: &C) -> anyhow::Result<MailText> {
    let lang = if has_language(name, lang) { lang } else { "en" };
    let file = format!("{name}.{lang}.txt");
    let text = render_file(&file, context)?;
    let (first, body) = text.split_once('\n').unwrap_or((text.as_str(), ""));
    let subject = first
        .strip_prefix("Subject: ")
        .with_context(|| format!("{file} does not start with `Subject: `"))?;
    Ok(MailText {
        subject: subject.trim().to_owned(),
        body: body.trim_start_matches(['\r', '\n']).to_owned(),
    })
}

/// Renders `mail/<name>.<lang>.html` (English when there is no such
/// language), HTML-escaped.
///
/// # Errors
/// No such template, or a rendering error.
pub fn render_html<C: Serialize>(name: &str, lang: &str, context: &C) -> anyhow::Result<String> {
    let lang = if has_language(name, lang) { lang } else { "en" };
    render_file(&format!("{name}.{lang}.html"), context)
}

fn render_file<C: Serialize>(file: &str, context: &C) -> anyhow::Result<String> {
    if MailTemplateFiles::get(file).is_none() {
        return Err(anyhow!("no mail template {file}"));
    }
    ENV.get_template(file)
        .and_then(|t| t.render(context))
        .with_context(|| format!("while rendering the mail template {file}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_mail_template_renders_in_every_language_with_a_subject() {
        let names: Vec<String> = MailTemplateFiles::iter()
            .map(|n| n.into_owned())
            .filter(|n| n.ends_with(".txt"))
            .collect();
        assert!(!names.is_empty(), "templates/mail holds the mail texts");
        for file in names {
            let source = MailTemplateFiles::get(&file).expect("listed").data;
            let source = String::from_utf8_lossy(&source);
            assert!(
                source.starts_with("Subject: "),
                "{file} starts with its subject line"
            );
        }
    }

    #[test]
    fn an_unknown_language_falls_back_to_english() {
        let ctx = minijinja::context! {
            list_address => "club@lists.test",
            reason => "sender",
            subject => "Hello",
            max_mib => 10,
        };
        let text = render("list_rejected", "xx", &ctx).expect("renders");
        assert!(text.body.contains("club@lists.test"));
    }
}
