//! Lines that fit the screen: on a terminal its width (TIOCGWINSZ), else
//! `COLUMNS`, else 100; piped output keeps its long lines unless
//! `COLUMNS` is set. A long line is broken at blanks onto continuation
//! lines indented under the text it continues, never at column 1.

use std::io::IsTerminal;

/// The width when a terminal does not say: a projector at a readable
/// font size.
pub const DEFAULT_WIDTH: usize = 100;
/// Narrower than this, a table's annotation column would hold a word or
/// two a line: the annotation goes below the row instead.
pub const MIN_COLUMN: usize = 24;

/// The width to fit stdout to, or `None` for no limit.
pub fn width() -> Option<usize> {
    let columns = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|&c| c > 0);
    if std::io::stdout().is_terminal() {
        Some(
            crate::os::terminal_width(1)
                .or(columns)
                .unwrap_or(DEFAULT_WIDTH),
        )
    } else {
        columns
    }
}

/// How many columns `text` takes on screen: characters, without the
/// ANSI colour sequences (`ESC [ ... m`).
pub fn visible(text: &str) -> usize {
    let mut n = 0;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            for e in chars.by_ref() {
                if e == 'm' {
                    break;
                }
            }
        } else {
            n += 1;
        }
    }
    n
}

/// `text` (no colour) cut into pieces of at most `first` columns, then
/// at most `rest`, at blanks; a word longer than a piece is cut.
pub fn pieces(text: &str, first: usize, rest: usize) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut line = String::new();
    let mut room = first.max(1);
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        let mut word: Vec<char> = word.chars().collect();
        loop {
            let used = line.chars().count();
            let gap = usize::from(used > 0);
            if used + gap + word.len() <= room {
                if gap == 1 {
                    line.push(' ');
                }
                line.extend(word.iter());
                break;
            }
            if used > 0 {
                out.push(std::mem::take(&mut line));
                room = rest.max(1);
                continue;
            }
            // A word longer than a whole line: cut it.
            let tail = word.split_off(room.min(word.len()));
            out.push(word.into_iter().collect());
            room = rest.max(1);
            word = tail;
            if word.is_empty() {
                break;
            }
        }
    }
    if !line.is_empty() || out.is_empty() {
        out.push(line);
    }
    out
}

/// Where a line's text starts: after its indentation and a short marker
/// (`  | `, `  > `, `== `, `  <- `).
fn text_start(line: &str) -> usize {
    let spaces = line.len() - line.trim_start_matches(' ').len();
    let rest = &line[spaces..];
    let marker = rest
        .find(' ')
        .filter(|&n| n <= 2 && rest[..n].chars().all(|c| "|><=-~+!".contains(c)));
    match marker {
        // And the blanks after it: `  |   [stop 1]` is indented text.
        Some(n) => {
            let after = &rest[n..];
            spaces + n + after.len() - after.trim_start_matches(' ').len()
        }
        None => spaces,
    }
}

/// `text` without its colour sequences.
pub fn visible_text(text: &str) -> String {
    uncoloured(text).0
}

/// `text` without its colour sequences, and the first of them.
fn uncoloured(text: &str) -> (String, Option<&str>) {
    let first = text
        .find('\x1b')
        .and_then(|at| Some(&text[at..at + text[at..].find('m')? + 1]));
    let mut plain = String::new();
    let mut rest = text;
    while let Some(at) = rest.find('\x1b') {
        plain += &rest[..at];
        rest = rest[at..].find('m').map_or("", |m| &rest[at + m + 1..]);
    }
    plain += rest;
    (plain, first)
}

/// Fits every line of `text` into `width` columns (`None`: unchanged).
/// A continuation line is indented two more than the text it continues.
/// The table and the diagram fit themselves; a long line in colour
/// (a heading, a summary) is painted as one colour again, piece by piece.
pub fn lines(text: &str, width: Option<usize>) -> String {
    let Some(width) = width else {
        return text.to_string();
    };
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let (body, nl) = match line.strip_suffix('\n') {
            Some(b) => (b, "\n"),
            None => (line, ""),
        };
        if visible(body) <= width {
            out += line;
            continue;
        }
        let (plain, paint) = uncoloured(body);
        let start = text_start(&plain);
        let indent = (start + 2).min(width / 2);
        let parts = pieces(
            &plain[start..],
            width - start.min(width - 1),
            width - indent,
        );
        for (i, p) in parts.iter().enumerate() {
            out += &if i == 0 {
                plain[..start].to_string()
            } else {
                " ".repeat(indent)
            };
            match paint {
                Some(code) => out += &format!("{code}{p}\x1b[0m"),
                None => out += p,
            }
            out += if i + 1 < parts.len() { "\n" } else { nl };
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_break_at_blanks_and_cut_long_words() {
        assert_eq!(pieces("aa bb cc", 5, 5), ["aa bb", "cc"]);
        assert_eq!(pieces("aa bb cc", 2, 8), ["aa", "bb cc"]);
        assert_eq!(pieces("abcdefgh", 3, 3), ["abc", "def", "gh"]);
        assert_eq!(pieces("", 3, 3), [""]);
    }

    #[test]
    fn long_lines_continue_under_their_text() {
        let text = "  | one two three four five six\nshort\n";
        let fitted = lines(text, Some(16));
        assert_eq!(
            fitted,
            "  | one two\n      three four\n      five six\nshort\n"
        );
        assert!(fitted.lines().all(|l| l.len() <= 16));
        assert_eq!(lines(text, None), text);
        assert_eq!(
            lines("  |   [stop 1] pid 7: cat\n", Some(20)),
            "  |   [stop 1] pid\n        7: cat\n"
        );
        assert_eq!(
            lines("== a b c d e f g h\n", Some(10)),
            "== a b c d\n     e f g\n     h\n"
        );
    }

    #[test]
    fn colour_takes_no_room() {
        assert_eq!(visible("\x1b[2mabc\x1b[0m"), 3);
        assert_eq!(visible("é"), 1);
        assert_eq!(
            lines("\x1b[1m== a b c d e\x1b[0m\n", Some(8)),
            "== \x1b[1ma b c\x1b[0m\n    \x1b[1md e\x1b[0m\n"
        );
    }
}
