//! The one [`Templates`] value: every minijinja template of `templates/`,
//! with HTML auto-escaping, strict undefined variables and the `t()`
//! translation function.
//!
//! rust-embed reads the folder from disk in debug builds (anchored to this
//! crate's manifest, not the working directory) and embeds it in release
//! builds, so `cargo run` picks up edits after a restart and the release
//! binary carries everything.

use minijinja::value::{Kwargs, Value};
use minijinja::{Environment, Error, ErrorKind, State, UndefinedBehavior};
use rust_embed::RustEmbed;
use serde::Serialize;

use crate::i18n;

#[derive(RustEmbed)]
#[folder = "../templates"]
struct TemplateFiles;

/// All templates, parsed once.
pub struct Templates {
    env: Environment<'static>,
}

impl Templates {
    /// Loads and parses every template, so a syntax error stops the start.
    ///
    /// # Errors
    /// The first template that does not parse.
    pub fn load() -> Result<Templates, Error> {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_loader(|name| {
            Ok(TemplateFiles::get(name).map(|f| String::from_utf8_lossy(&f.data).into_owned()))
        });
        env.add_function("t", translate);
        for name in Templates::names() {
            env.get_template(&name)?;
        }
        Ok(Templates { env })
    }

    /// The names of all template files, such as `groups/show.html`.
    pub fn names() -> Vec<String> {
        TemplateFiles::iter().map(|n| n.into_owned()).collect()
    }

    /// Renders `name` with the page data and the view's fields at the top
    /// level.
    ///
    /// # Errors
    /// A rendering error (a missing variable, a failing filter).
    pub fn render<P: Serialize, V: Serialize>(
        &self,
        name: &str,
        page: &P,
        view: &V,
    ) -> Result<String, Error> {
        let ctx = minijinja::context! { page => page, ..Value::from_serialize(view) };
        self.env.get_template(name)?.render(ctx)
    }
}

/// `t(key, name=value, ...)`: the text for `key` in the page's language,
/// with `%{name}` placeholders filled.
fn translate(state: &State, key: &str, kwargs: Kwargs) -> Result<String, Error> {
    let page = state
        .lookup("page")
        .ok_or_else(|| Error::new(ErrorKind::UndefinedError, "t() needs `page` in context"))?;
    let lang = page.get_attr("lang")?;
    let lang = lang.as_str().unwrap_or(i18n::LANGUAGES[0]);
    let mut args = Vec::new();
    for name in kwargs.args() {
        let value: Value = kwargs.get(name)?;
        args.push((name, value.to_string()));
    }
    Ok(i18n::text_with(lang, key, &args))
}
