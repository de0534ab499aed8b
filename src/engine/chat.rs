//! Chat templates: the Jinja template shipped with the model (GGUF
//! `tokenizer.chat_template` or `tokenizer_config.json`) rendered with minijinja with
//! Hugging Face semantics, or a built-in template for ChatML, Llama 3 and Mistral.

use minijinja::{context, Environment, Error, ErrorKind};
use serde::{Deserialize, Serialize};

use super::EngineError;

/// One chat message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// `system`, `user` or `assistant`.
    pub role: String,
    /// The text.
    pub content: String,
}

impl Message {
    /// A message with a role.
    pub fn new(role: &str, content: impl Into<String>) -> Self {
        Self {
            role: role.to_string(),
            content: content.into(),
        }
    }
}

/// ChatML, as SmolLM and Qwen use it.
pub const CHATML: &str = "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";
/// Llama 3 instruct.
pub const LLAMA3: &str = "{{ bos_token }}{% for message in messages %}{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n' + message['content'] | trim + '<|eot_id|>' }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}";
/// Mistral instruct (system text folded into the first user turn).
pub const MISTRAL: &str = "{{ bos_token }}{% for message in messages %}{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token }}{% else %}{{ '[INST] ' + message['content'] + ' [/INST] Understood.' + eos_token }}{% endif %}{% endfor %}";

/// A compiled chat template.
#[derive(Debug)]
pub struct ChatTemplate {
    env: Environment<'static>,
    bos: String,
    eos: String,
}

impl ChatTemplate {
    /// Compiles `source`.
    pub fn new(source: &str, bos: &str, eos: &str) -> Result<Self, EngineError> {
        let mut env = Environment::new();
        minijinja_contrib::add_to_environment(&mut env);
        env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
        env.add_function("raise_exception", |msg: String| -> Result<String, Error> {
            Err(Error::new(ErrorKind::InvalidOperation, msg))
        });
        env.add_template_owned("chat".to_string(), source.to_string())
            .map_err(|e| EngineError::Template(e.to_string()))?;
        Ok(Self {
            env,
            bos: bos.to_string(),
            eos: eos.to_string(),
        })
    }

    /// Picks the built-in template matching the vocabulary's markers.
    pub fn builtin_for(has_token: impl Fn(&str) -> bool) -> &'static str {
        if has_token("<|start_header_id|>") {
            LLAMA3
        } else if has_token("[INST]") {
            MISTRAL
        } else {
            CHATML
        }
    }

    /// Renders the conversation; with `add_generation_prompt` the assistant's turn is
    /// opened.
    pub fn render(
        &self,
        messages: &[Message],
        add_generation_prompt: bool,
    ) -> Result<String, EngineError> {
        let tmpl = self
            .env
            .get_template("chat")
            .map_err(|e| EngineError::Template(e.to_string()))?;
        tmpl.render(context! {
            messages => messages,
            add_generation_prompt => add_generation_prompt,
            bos_token => self.bos,
            eos_token => self.eos,
        })
        .map_err(|e| EngineError::Template(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_templates_render() {
        let msgs = [
            Message::new("system", "be brief"),
            Message::new("user", "hi"),
        ];
        let t = ChatTemplate::new(CHATML, "", "").expect("compiles");
        assert_eq!(
            t.render(&msgs, true).expect("renders"),
            "<|im_start|>system\nbe brief<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"
        );
        let t = ChatTemplate::new(LLAMA3, "<|begin_of_text|>", "").expect("compiles");
        assert!(t
            .render(&msgs, true)
            .expect("renders")
            .starts_with("<|begin_of_text|><|start_header_id|>system"));
    }

    #[test]
    fn raise_exception_and_python_methods() {
        let t = ChatTemplate::new("{% if messages[0].role != 'user' %}{{ raise_exception('first must be user') }}{% endif %}{{ messages[0].content.strip() }}", "", "")
            .expect("compiles");
        let err = t
            .render(&[Message::new("assistant", "x")], false)
            .expect_err("raises");
        assert!(err.to_string().contains("first must be user"));
        assert_eq!(
            t.render(&[Message::new("user", "  hi  ")], false)
                .expect("renders"),
            "hi"
        );
        assert!(ChatTemplate::new("{% for %}", "", "").is_err());
    }
}
