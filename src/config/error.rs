//! A config mistake, located: `file:line:column: what is wrong`.

use std::fmt;
use std::ops::Range;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The file (or `<embedded default>`).
    pub origin: String,
    /// 1-based line and column of the offending text, when known.
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
}

impl ConfigError {
    /// An error at a byte span of `text`.
    pub fn at(
        origin: &str,
        text: &str,
        span: Option<Range<usize>>,
        message: String,
    ) -> ConfigError {
        let (line, column) = match span {
            Some(span) if !(span.start == 0 && span.end == 0 && text.is_empty()) => {
                let (l, c) = line_col(text, span.start);
                (Some(l), Some(c))
            }
            _ => (None, None),
        };
        ConfigError {
            origin: origin.to_string(),
            line,
            column,
            message: message.trim_end().to_string(),
        }
    }

    /// An error at a place recorded earlier (see [`Position`]).
    pub fn at_position(position: &Position, message: String) -> ConfigError {
        ConfigError {
            origin: position.origin.clone(),
            line: Some(position.line),
            column: Some(position.column),
            message,
        }
    }

    /// An error about the file as a whole.
    pub fn plain(origin: &str, message: String) -> ConfigError {
        ConfigError {
            origin: origin.to_string(),
            line: None,
            column: None,
            message,
        }
    }
}

/// Where something was written in a config file, kept for errors found after
/// parsing (a list file that cannot be read when the rules are compiled).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position {
    pub origin: String,
    pub line: usize,
    pub column: usize,
}

impl Position {
    /// The position of byte `at` of `text`, read from `origin`.
    pub fn of(origin: &str, text: &str, at: usize) -> Position {
        let (line, column) = line_col(text, at);
        Position {
            origin: origin.to_string(),
            line,
            column,
        }
    }
}

/// 1-based line and column (in characters) of byte offset `at`.
fn line_col(text: &str, at: usize) -> (usize, usize) {
    let at = at.min(text.len());
    let before = text.get(..at).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column) {
            (Some(l), Some(c)) => write!(f, "{}:{l}:{c}: {}", self.origin, self.message),
            _ => write!(f, "{}: {}", self.origin, self.message),
        }
    }
}

impl std::error::Error for ConfigError {}

/// An I/O error without Rust's `(os error N)` suffix.
pub fn io_reason(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.rfind(" (os error ") {
        Some(i) if text.ends_with(')') => text[..i].to_string(),
        _ => text,
    }
}

#[cfg(test)]
mod tests {
    use super::line_col;

    #[test]
    fn line_and_column_are_one_based() {
        assert_eq!(line_col("abc", 0), (1, 1));
        assert_eq!(line_col("a\nbc", 3), (2, 2));
        assert_eq!(line_col("é\nx", 3), (2, 1));
    }
}
