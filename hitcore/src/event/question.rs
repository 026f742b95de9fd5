//! Event questions and their answers (section 5.2): the questions an
//! event asks at registration (or its organisers fill in), how a list of
//! choices is written in a form, how an answer is checked and stored, and
//! whose answers a viewer may read.
//!
//! Storing answers, and creating an empty answer for every participation
//! when a question is added later, is the participation store's work; the
//! rules here are pure.

use serde::{Deserialize, Serialize};

use crate::event::participation::{EventPermission, EventRoleType};
use crate::id::{EventId, QuestionId};
use crate::validate::{Violations, clean, single_line};

/// A question of one event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Question {
    pub id: QuestionId,
    pub event_id: EventId,
    pub question: String,
    /// Empty: a free-text question.
    pub choices: Vec<String>,
    pub multiple_choices: bool,
    /// Enforced only when people apply for themselves.
    pub required: bool,
    /// For the organisers: not asked at registration.
    pub admin: bool,
    /// The event role types that see the answers, besides the participant
    /// and those with `participations_full` or `show_full`.
    pub visible_role_types: Vec<EventRoleType>,
    /// Position in the event's list of questions.
    pub ord: i32,
}

/// A question to add to an event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewQuestion {
    pub question: String,
    pub choices: Vec<String>,
    pub multiple_choices: bool,
    pub required: bool,
    pub admin: bool,
    pub visible_role_types: Vec<EventRoleType>,
}

/// How the form asks a question (5.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AnswerInput {
    /// A text field: the question has no choices.
    Text,
    /// Radio buttons: one of several choices.
    Radio,
    /// Check boxes: multiple choices, or a single choice to tick.
    Checkboxes,
}

/// The event role types whose holders see answers by default: those with
/// `participations_read_details` (5.2).
pub fn default_visible_role_types() -> Vec<EventRoleType> {
    EventRoleType::ALL
        .into_iter()
        .filter(|t| {
            t.permissions()
                .contains(&EventPermission::ParticipationsReadDetails)
        })
        .collect()
}

impl NewQuestion {
    /// A question from the form's fields: `choices` is the comma-separated
    /// text of [`parse_choices`]. The visible role types are the default.
    ///
    /// # Errors
    /// The violations, by field: `question` (`errors.required`,
    /// `errors.too_long`), `choices` (`errors.duplicate_choice`,
    /// `errors.choices_required` for multiple choices without any).
    pub fn from_form(
        question: &str,
        choices: &str,
        multiple_choices: bool,
        required: bool,
        admin: bool,
    ) -> Result<NewQuestion, Violations> {
        let mut v = Violations::default();
        let text = clean(Some(question.to_owned()));
        if text.is_none() {
            v.add("question", "errors.required");
        } else if text.as_ref().is_some_and(|t| t.chars().count() > 2000) {
            v.add("question", "errors.too_long");
        }
        let choices = parse_choices(choices);
        for c in &choices {
            single_line(&mut v, "choices", &Some(c.clone()), 255);
        }
        if choices
            .iter()
            .enumerate()
            .any(|(i, c)| choices[..i].contains(c))
        {
            v.add("choices", "errors.duplicate_choice");
        }
        if multiple_choices && choices.is_empty() {
            v.add("choices", "errors.choices_required");
        }
        v.into_result(NewQuestion {
            question: text.unwrap_or_default(),
            choices,
            multiple_choices,
            required,
            admin,
            visible_role_types: default_visible_role_types(),
        })
    }
}

/// Splits the comma-separated choices of a form (5.2): `\,` is a literal
/// comma and `\\` a backslash; each choice is trimmed and blanks dropped.
pub fn parse_choices(text: &str) -> Vec<String> {
    let mut choices = Vec::new();
    let mut current = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(next @ (',' | '\\')) => current.push(next),
                Some(other) => {
                    current.push('\\');
                    current.push(other);
                }
                None => current.push('\\'),
            },
            ',' => choices.push(std::mem::take(&mut current)),
            c => current.push(c),
        }
    }
    choices.push(current);
    choices
        .into_iter()
        .map(|c| c.trim().to_owned())
        .filter(|c| !c.is_empty())
        .collect()
}

/// The choices as a form shows them, the inverse of [`parse_choices`].
pub fn format_choices(choices: &[String]) -> String {
    choices
        .iter()
        .map(|c| c.replace('\\', "\\\\").replace(',', "\\,"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Question {
    /// How the form asks this question: radio buttons for choices, check
    /// boxes for multiple choices or a single choice, else free text.
    pub fn input(&self) -> AnswerInput {
        match (self.choices.len(), self.multiple_choices) {
            (0, _) => AnswerInput::Text,
            (1, _) | (_, true) => AnswerInput::Checkboxes,
            _ => AnswerInput::Radio,
        }
    }

    /// Checks the values a form sent for this question and returns the
    /// answer to store: the trimmed text, or the ticked choices in the
    /// question's order joined with ", " (5.2). `enforce_required` is set
    /// when people apply for themselves.
    ///
    /// # Errors
    /// The message key: `errors.required` (nothing given for a required
    /// question), `errors.invalid_choice` (a value that is not a choice,
    /// or several for a radio question), `errors.too_long` (text over
    /// 10 000 characters).
    pub fn answer(
        &self,
        values: &[String],
        enforce_required: bool,
    ) -> Result<Option<String>, &'static str> {
        let given: Vec<&str> = values
            .iter()
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
            .collect();
        let answer = match self.input() {
            AnswerInput::Text => self.text_answer(&given)?,
            AnswerInput::Radio if given.len() > 1 => return Err("errors.invalid_choice"),
            AnswerInput::Radio | AnswerInput::Checkboxes => self.choice_answer(&given)?,
        };
        if answer.is_none() && self.required && enforce_required {
            return Err("errors.required");
        }
        Ok(answer)
    }

    fn text_answer(&self, given: &[&str]) -> Result<Option<String>, &'static str> {
        let text = given.join("\n");
        if text.chars().count() > 10_000 {
            return Err("errors.too_long");
        }
        Ok(Some(text).filter(|t| !t.is_empty()))
    }

    fn choice_answer(&self, given: &[&str]) -> Result<Option<String>, &'static str> {
        if given.iter().any(|g| !self.choices.iter().any(|c| c == g)) {
            return Err("errors.invalid_choice");
        }
        let ticked: Vec<&str> = self
            .choices
            .iter()
            .map(String::as_str)
            .filter(|c| given.contains(c))
            .collect();
        Ok(Some(ticked.join(", ")).filter(|a| !a.is_empty()))
    }

    /// The ticked choices of a stored answer, for re-showing a form.
    ///
    /// A choice that itself contains ", " cannot be told apart from two
    /// choices in the stored text; it is matched as a whole first.
    pub fn ticked(&self, answer: Option<&str>) -> Vec<String> {
        let Some(answer) = answer else {
            return Vec::new();
        };
        let parts: Vec<&str> = answer.split(", ").collect();
        self.choices
            .iter()
            .filter(|c| c.as_str() == answer || parts.contains(&c.as_str()))
            .cloned()
            .collect()
    }
}

/// Who reads answers: the viewer's relation to one participation.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AnswerViewer {
    /// The participation is the viewer's own.
    pub is_own: bool,
    /// The viewer holds `participations_full` in the event (through an
    /// active participation), or `show_full` on the participation.
    pub sees_all: bool,
    /// The viewer's event role types in the event (active participation).
    pub role_types: Vec<EventRoleType>,
}

/// Whether `viewer` may read the answers to `question` (5.2): everything
/// for those who see all; the participant their own answers to questions
/// that are not organiser-only; anyone else only if one of their event
/// role types is among the question's visible types.
pub fn is_answer_visible(question: &Question, viewer: &AnswerViewer) -> bool {
    viewer.sees_all
        || (viewer.is_own && !question.admin)
        || viewer
            .role_types
            .iter()
            .any(|t| question.visible_role_types.contains(t))
}

/// The questions among `questions` whose answers `viewer` may read, in
/// their order; what participant lists, exports and the participation
/// page show.
pub fn visible_questions<'a>(
    questions: &'a [Question],
    viewer: &AnswerViewer,
) -> Vec<&'a Question> {
    questions
        .iter()
        .filter(|q| is_answer_visible(q, viewer))
        .collect()
}

/// The questions asked at registration: those not for the organisers.
pub fn application_questions(questions: &[Question]) -> Vec<&Question> {
    questions.iter().filter(|q| !q.admin).collect()
}

#[cfg(test)]
mod tests {
    use rstest::rstest;

    use super::*;

    fn question(choices: &[&str], multiple: bool, required: bool, admin: bool) -> Question {
        Question {
            id: QuestionId(1),
            event_id: EventId(1),
            question: "Diet?".into(),
            choices: choices.iter().map(|c| (*c).to_owned()).collect(),
            multiple_choices: multiple,
            required,
            admin,
            visible_role_types: default_visible_role_types(),
            ord: 0,
        }
    }

    #[rstest]
    #[case("a, b,c", &["a", "b", "c"])]
    #[case("a\\, b, c", &["a, b", "c"])]
    #[case(" , a,, ", &["a"])]
    #[case("back\\\\slash, x", &["back\\slash", "x"])]
    #[case("", &[])]
    fn choices_split_at_unescaped_commas(#[case] text: &str, #[case] expected: &[&str]) {
        assert_eq!(parse_choices(text), expected);
    }

    #[test]
    fn formatted_choices_parse_back() {
        let choices = vec!["a, b".to_owned(), "c\\".to_owned(), "d".to_owned()];
        assert_eq!(parse_choices(&format_choices(&choices)), choices);
    }

    #[rstest]
    #[case(&[], false, AnswerInput::Text)]
    #[case(&["yes"], false, AnswerInput::Checkboxes)]
    #[case(&["a", "b"], false, AnswerInput::Radio)]
    #[case(&["a", "b"], true, AnswerInput::Checkboxes)]
    fn input_follows_the_choices(
        #[case] choices: &[&str],
        #[case] multiple: bool,
        #[case] expected: AnswerInput,
    ) {
        assert_eq!(question(choices, multiple, false, false).input(), expected);
    }

    #[test]
    fn checkbox_answers_join_in_question_order() {
        let q = question(&["veggie", "vegan", "none"], true, false, false);
        let answer = q.answer(&["none".into(), "veggie".into()], true);
        assert_eq!(answer, Ok(Some("veggie, none".into())));
    }

    #[test]
    fn unknown_choice_and_two_radio_values_are_refused() {
        let q = question(&["a", "b"], false, false, false);
        assert_eq!(q.answer(&["c".into()], true), Err("errors.invalid_choice"));
        assert_eq!(
            q.answer(&["a".into(), "b".into()], true),
            Err("errors.invalid_choice")
        );
        assert_eq!(q.answer(&["b".into()], true), Ok(Some("b".into())));
    }

    #[test]
    fn required_is_enforced_only_for_self_applications() {
        let q = question(&[], false, true, false);
        assert_eq!(q.answer(&[" ".into()], true), Err("errors.required"));
        assert_eq!(q.answer(&[], false), Ok(None));
        assert_eq!(q.answer(&["Fish".into()], true), Ok(Some("Fish".into())));
    }

    #[test]
    fn ticked_choices_come_back_from_the_stored_answer() {
        let q = question(&["a, b", "c", "d"], true, false, false);
        assert_eq!(q.ticked(Some("a, b")), ["a, b"]);
        assert_eq!(q.ticked(Some("c, d")), ["c", "d"]);
        assert!(q.ticked(None).is_empty());
    }

    #[test]
    fn form_needs_a_question_and_distinct_choices() {
        let e = NewQuestion::from_form(" ", "a, a", true, false, false).unwrap_err();
        assert_eq!(e.for_field("question"), Some("errors.required"));
        assert_eq!(e.for_field("choices"), Some("errors.duplicate_choice"));
        let q = NewQuestion::from_form("Size?", "S, M\\, L", false, true, false).unwrap();
        assert_eq!(q.choices, ["S", "M, L"]);
        assert_eq!(
            q.visible_role_types,
            [EventRoleType::Cook, EventRoleType::Helper]
        );
    }

    #[rstest]
    // (own, sees_all, roles, admin question) -> visible
    #[case(true, false, &[], false, true)]
    #[case(true, false, &[], true, false)]
    #[case(false, true, &[], true, true)]
    #[case(false, false, &[EventRoleType::Helper], true, true)]
    #[case(false, false, &[EventRoleType::Treasurer], false, false)]
    #[case(false, false, &[], false, false)]
    fn answer_visibility_follows_5_2(
        #[case] is_own: bool,
        #[case] sees_all: bool,
        #[case] roles: &[EventRoleType],
        #[case] admin: bool,
        #[case] expected: bool,
    ) {
        let viewer = AnswerViewer {
            is_own,
            sees_all,
            role_types: roles.to_vec(),
        };
        let q = question(&[], false, false, admin);
        assert_eq!(is_answer_visible(&q, &viewer), expected);
    }
}
