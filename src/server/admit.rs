//! What a request may cost before it reaches the scheduler's queue.
//!
//! Tokenizing is the one step whose cost grows with what a client sends (the tokenizer
//! holds about 150 bytes per input byte while it works), so a prompt meets three bounds
//! before the engine tokenizes it whole:
//! 1. its length: no token is longer than the longest one in the vocabulary, so a
//!    prompt of more than `context × longest token × 4` bytes cannot fit (the 4 covers
//!    normalizers that shrink text, such as NFC, by up to a factor of 3); refused
//!    before anything else is done with it;
//! 2. its tokens, counted 64 KiB at a time and stopping as soon as the count is over the
//!    context: a prompt that cannot fit costs one chunk's tokenization, not its own;
//! 3. at most one request per core is prepared (counted, tokenized, its grammar
//!    compiled) at once; others wait for a turn.

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::engine::{Engine, EngineError};

/// Shrinking normalizers (NFC) give at most this many input bytes per output byte.
const NORMALIZER_SLACK: usize = 4;

/// Bytes per token assumed when the vocabulary's longest token is unknown.
const FALLBACK_TOKEN_BYTES: usize = 64;

/// Bytes tokenized at a time when counting a prompt's tokens.
pub const COUNT_CHUNK: usize = 64 * 1024;

/// Tokens a cut between two chunks may add to the count (a word cut in two can take a
/// token more than whole); the count must exceed the context by this much per cut
/// before a prompt is refused, so no prompt that fits is.
const CUT_SLACK: usize = 8;

/// The admission bounds of one loaded model.
#[derive(Debug)]
pub struct Admission {
    /// Most prompt bytes that could still fit the context.
    pub max_prompt_bytes: usize,
    context: usize,
    /// Requests being prepared at once.
    slots: Arc<Semaphore>,
}

impl Admission {
    /// Bounds for `engine`'s context and vocabulary.
    pub fn for_engine(engine: &Engine) -> Self {
        let longest = (0..engine.info().vocab_size as u32)
            .map(|id| engine.token_piece(id).1.len())
            .max()
            .filter(|&n| n > 0)
            .unwrap_or(FALLBACK_TOKEN_BYTES);
        Self::new(engine.info().context_length, longest)
    }

    /// Bounds for a context of `context` tokens of at most `longest` bytes each.
    pub fn new(context: usize, longest: usize) -> Self {
        let max_prompt_bytes = context
            .max(1)
            .saturating_mul(longest.max(1))
            .saturating_mul(NORMALIZER_SLACK);
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get().max(2));
        Self {
            max_prompt_bytes,
            context,
            slots: Arc::new(Semaphore::new(cores)),
        }
    }

    /// Refuses a prompt of `bytes` that cannot fit the context (bound 1).
    pub fn check_bytes(&self, bytes: usize) -> Result<(), EngineError> {
        if bytes > self.max_prompt_bytes {
            return Err(EngineError::PromptTooLarge {
                bytes,
                limit: self.max_prompt_bytes,
                context: self.context,
            });
        }
        Ok(())
    }

    /// Refuses texts that together need more tokens than the context holds, counting
    /// them a chunk at a time and stopping at the first chunk over (bound 2).
    pub fn check_tokens(&self, engine: &Engine, texts: &[&str]) -> Result<(), EngineError> {
        let mut tokens = 0usize;
        let mut cuts = 0usize;
        for text in texts {
            for chunk in chunks(text, COUNT_CHUNK) {
                tokens += engine.tokenizer().encode(chunk)?.len();
                if tokens > self.context + cuts * CUT_SLACK {
                    return Err(EngineError::PromptOverContext {
                        at_least: tokens.saturating_sub(cuts * CUT_SLACK),
                        context: self.context,
                    });
                }
                cuts += 1;
            }
        }
        Ok(())
    }

    /// Waits for a turn to prepare a request (bound 3); the turn ends when the permit
    /// drops.
    pub async fn turn(&self) -> Option<OwnedSemaphorePermit> {
        self.slots.clone().acquire_owned().await.ok()
    }
}

/// `text` in pieces of about `size` bytes, cut where a word ends and whitespace begins
/// (where tokenizers split words anyway) when there is such a place in the second half
/// of the piece, else at a character boundary.
fn chunks(text: &str, size: usize) -> impl Iterator<Item = &str> {
    let size = size.max(8);
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        if rest.len() <= size {
            return Some(std::mem::take(&mut rest));
        }
        let b = rest.as_bytes();
        let cut = (size / 2..=size)
            .rev()
            .find(|&i| b[i].is_ascii_whitespace() && !b[i - 1].is_ascii_whitespace())
            .or_else(|| (1..=size).rev().find(|&i| rest.is_char_boundary(i)))
            .unwrap_or(rest.len());
        let (piece, tail) = rest.split_at(cut);
        rest = tail;
        Some(piece)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompts_longer_than_any_fitting_one_are_refused() {
        let a = Admission::new(1000, 10);
        assert_eq!(a.max_prompt_bytes, 40_000);
        assert!(a.check_bytes(40_000).is_ok());
        assert!(matches!(
            a.check_bytes(40_001),
            Err(EngineError::PromptTooLarge {
                bytes: 40_001,
                limit: 40_000,
                context: 1000
            })
        ));
    }

    #[test]
    fn chunks_cover_the_text_and_cut_before_whitespace() {
        let text = "alpha beta gamma delta ".repeat(50) + &"é".repeat(100);
        let pieces: Vec<&str> = chunks(&text, 64).collect();
        assert_eq!(pieces.concat(), text);
        assert!(pieces.iter().all(|p| p.len() <= 64));
        let words = 23 * 50;
        let mut at = 0;
        for p in &pieces {
            if at > 0 && at + 64 < words {
                assert!(p.starts_with(' '), "{p:?}");
            }
            at += p.len();
        }
        assert_eq!(chunks("", 64).count(), 0);
    }

    #[tokio::test]
    async fn preparation_turns_are_bounded_and_given_back() {
        let a = Admission::new(1000, 10);
        let n = a.slots.available_permits();
        let mut held = Vec::new();
        for _ in 0..n {
            held.push(a.turn().await);
        }
        let waiting = tokio::time::timeout(std::time::Duration::from_millis(50), a.turn()).await;
        assert!(waiting.is_err(), "a turn beyond the limit waits");
        held.pop();
        assert!(a.turn().await.is_some());
    }
}
