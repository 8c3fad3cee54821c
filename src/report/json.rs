//! [`Json`]: a minimal JSON value, a writer and a strict parser (RFC 8259).
//!
//! The training program's `--metrics FILE` summaries are read by scripts (Python's `json`,
//! `jq`, a spreadsheet), so what we write must be JSON that every reader accepts, and what
//! we read back must be checked as strictly as those readers check it. The whole format is
//! small enough to do by hand: six kinds of value, one string escape syntax, one number
//! grammar. We keep zero dependencies rather than pull in `serde_json` for a few hundred
//! bytes of output.
//!
//! ```
//! use simplenn::json::Json;
//!
//! let metrics = Json::object([
//!     ("epochs", Json::from(10usize)),
//!     ("loss", Json::from(vec![0.62, 0.31, 0.25])),
//!     ("test_accuracy", Json::from(Some(0.9712))),
//!     ("note", Json::from("tab\there")),
//! ]);
//! // `Display` is compact; `pretty` is for people and for diffs.
//! assert_eq!(
//!     metrics.to_string(),
//!     r#"{"epochs":10,"loss":[0.62,0.31,0.25],"test_accuracy":0.9712,"note":"tab\u0009here"}"#
//! );
//! assert_eq!(
//!     metrics.pretty(),
//!     "{\n  \"epochs\": 10,\n  \"loss\": [0.62, 0.31, 0.25],\n  \"test_accuracy\": 0.9712,\n  \"note\": \"tab\\u0009here\"\n}\n"
//! );
//!
//! // Whatever we write parses back to the same value.
//! let back = Json::parse(&metrics.pretty()).unwrap();
//! assert_eq!(back, metrics);
//! assert_eq!(back.get("test_accuracy").and_then(Json::as_f64), Some(0.9712));
//! ```
//!
//! Parse errors say where and what, for the person who edited the file by hand:
//!
//! ```
//! use simplenn::json::Json;
//!
//! let err = Json::parse("{\"a\": [1, 2,]}").unwrap_err();
//! assert_eq!(err.to_string(), "offset 11 (line 1, column 12): trailing comma before ']'");
//! assert_eq!((err.offset(), err.line(), err.column()), (11, 1, 12));
//! assert_eq!(err.message(), "trailing comma before ']'");
//! ```

use std::collections::HashSet;
use std::fmt::{self, Write as _};

/// A JSON value.
///
/// Numbers are `f64`, as in JavaScript and in most JSON readers: RFC 8259 §6 warns that
/// integers beyond ±(2⁵³ − 1) may not survive a round trip through other software, so we
/// do not pretend to carry them exactly either. Objects are a `Vec` of pairs, not a map, so
/// they keep the order they were built in: a metrics file reads top to bottom in the order
/// the program chose (config first, results last), and diffs between two runs stay aligned.
#[derive(Clone, Debug, PartialEq)]
pub enum Json {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number. NaN and the infinities have no JSON form and are written as `null`.
    Number(f64),
    /// A string of Unicode text.
    String(String),
    /// An ordered list of values.
    Array(Vec<Json>),
    /// Key–value pairs in insertion order.
    Object(Vec<(String, Json)>),
}

impl Json {
    /// Builds an object from pairs, so call sites need not write `.to_string()` on every key.
    ///
    /// ```
    /// use simplenn::json::Json;
    /// let o = Json::object([("a", Json::from(1usize)), ("b", Json::Null)]);
    /// assert_eq!(o.to_string(), r#"{"a":1,"b":null}"#);
    /// ```
    pub fn object<K: Into<String>>(pairs: impl IntoIterator<Item = (K, Json)>) -> Json {
        Json::Object(pairs.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// The value stored under `key`, if `self` is an object that has it.
    ///
    /// Objects we parse never have duplicate keys (the parser rejects them); for one built by
    /// hand with duplicates, this returns the first.
    pub fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Object(pairs) => pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The number, if `self` is one.
    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            Json::Number(x) => Some(x),
            _ => None,
        }
    }

    /// The boolean, if `self` is one.
    pub fn as_bool(&self) -> Option<bool> {
        match *self {
            Json::Bool(b) => Some(b),
            _ => None,
        }
    }

    /// The string, if `self` is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Json::String(s) => Some(s),
            _ => None,
        }
    }

    /// The elements, if `self` is an array.
    pub fn as_array(&self) -> Option<&[Json]> {
        match self {
            Json::Array(items) => Some(items),
            _ => None,
        }
    }

    /// The pairs in order, if `self` is an object.
    pub fn as_object(&self) -> Option<&[(String, Json)]> {
        match self {
            Json::Object(pairs) => Some(pairs),
            _ => None,
        }
    }

    /// The value indented by two spaces per level, one key or element per line, with a final
    /// newline (so the file ends as text files should).
    ///
    /// An array whose elements are all scalars (no arrays or objects inside) stays on one
    /// line, `[1, 2, 3]`: a confusion matrix then reads as a 10 × 10 grid rather than 110
    /// lines of one number each.
    pub fn pretty(&self) -> String {
        let mut out = String::new();
        self.write_pretty(&mut out, 0);
        out.push('\n');
        out
    }

    fn write_pretty(&self, out: &mut String, depth: usize) {
        const INDENT: &str = "  ";
        match self {
            Json::Array(items) if !items.is_empty() => {
                let flat = items
                    .iter()
                    .all(|v| !matches!(v, Json::Array(_) | Json::Object(_)));
                if flat {
                    out.push('[');
                    for (i, item) in items.iter().enumerate() {
                        if i > 0 {
                            out.push_str(", ");
                        }
                        // Writing to a String cannot fail.
                        let _ = write!(out, "{item}");
                    }
                    out.push(']');
                } else {
                    out.push_str("[\n");
                    for (i, item) in items.iter().enumerate() {
                        out.push_str(&INDENT.repeat(depth + 1));
                        item.write_pretty(out, depth + 1);
                        out.push_str(if i + 1 < items.len() { ",\n" } else { "\n" });
                    }
                    out.push_str(&INDENT.repeat(depth));
                    out.push(']');
                }
            }
            Json::Object(pairs) if !pairs.is_empty() => {
                out.push_str("{\n");
                for (i, (key, value)) in pairs.iter().enumerate() {
                    out.push_str(&INDENT.repeat(depth + 1));
                    let _ = write_string(out, key);
                    out.push_str(": ");
                    value.write_pretty(out, depth + 1);
                    out.push_str(if i + 1 < pairs.len() { ",\n" } else { "\n" });
                }
                out.push_str(&INDENT.repeat(depth));
                out.push('}');
            }
            // Scalars, `[]` and `{}` look the same either way.
            _ => {
                let _ = write!(out, "{self}");
            }
        }
    }

    /// Parses one JSON text, strictly by RFC 8259.
    ///
    /// Rejected, because other readers reject them too: trailing commas, single quotes,
    /// comments, unquoted keys, leading zeros (`01`), `NaN` and `Infinity`, a bare `.5` or
    /// `1.`, raw control characters inside strings, unpaired UTF-16 surrogates in `\u`
    /// escapes, and anything after the value but whitespace. Also rejected: duplicate keys in
    /// one object (RFC 8259 §4 leaves their meaning undefined, and I-JSON, RFC 7493, forbids
    /// them), numbers too large for `f64` (`1e400`), and nesting deeper than 128 levels
    /// (which would otherwise exhaust the stack of this recursive parser).
    ///
    /// The [`JsonError`] names the byte offset (from 0), the line and column (from 1), and
    /// what was wrong.
    ///
    /// ```
    /// use simplenn::json::Json;
    ///
    /// let v = Json::parse(r#" {"name": "caf\u00e9 \ud83d\ude00", "n": [1, -2.5e3, true, null]} "#)?;
    /// assert_eq!(v.get("name").and_then(Json::as_str), Some("café 😀"));
    /// assert_eq!(v.get("n").and_then(Json::as_array).map(|a| a.len()), Some(4));
    ///
    /// assert!(Json::parse("{'a': 1}").unwrap_err().message().contains("single quotes"));
    /// assert!(Json::parse("[NaN]").unwrap_err().message().contains("NaN"));
    /// # Ok::<(), simplenn::json::JsonError>(())
    /// ```
    pub fn parse(text: &str) -> Result<Json, JsonError> {
        let mut parser = Parser {
            text,
            bytes: text.as_bytes(),
            pos: 0,
            depth: 0,
        };
        parser.skip_whitespace();
        let value = parser.value()?;
        parser.skip_whitespace();
        if parser.pos < parser.bytes.len() {
            return Err(parser.error_here(format!(
                "unexpected {} after the JSON value",
                parser.found()
            )));
        }
        Ok(value)
    }
}

/// Writes `x` the way JavaScript's `JSON.stringify` does, so that every reader parses it back
/// to the same `f64`.
///
/// Rust's `{}` prints the shortest decimal that round-trips, and prints integral values
/// without a decimal point (`10`, not `10.0`), but it never uses an exponent: `1e300` would
/// come out as 301 digits. Like ECMAScript's `Number::toString` (ECMA-262 §6.1.6.1.20) we
/// switch to exponent form, `{:e}`, for magnitudes of 10²¹ and above or below 10⁻⁶; both
/// forms match the JSON number grammar.
fn write_number(f: &mut impl fmt::Write, x: f64) -> fmt::Result {
    if !x.is_finite() {
        // JSON has no NaN or infinity. `null` is what JavaScript writes, and what Python's
        // `json.loads` and `jq` read without complaint.
        return f.write_str("null");
    }
    let magnitude = x.abs();
    if magnitude != 0.0 && !(1e-6..1e21).contains(&magnitude) {
        write!(f, "{x:e}")
    } else {
        write!(f, "{x}")
    }
}

/// Writes `s` as a JSON string literal.
///
/// RFC 8259 §7 requires escaping only the quote, the backslash and the control characters
/// U+0000–U+001F; everything else, including non-ASCII text, may be written as itself in
/// UTF-8. Control characters are written as `\u00XX` throughout, one rule for all of them.
fn write_string(f: &mut impl fmt::Write, s: &str) -> fmt::Result {
    f.write_char('"')?;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        let escape = match c {
            '"' => "\\\"",
            '\\' => "\\\\",
            c if (c as u32) < 0x20 => "",
            _ => continue,
        };
        f.write_str(&s[start..i])?;
        if escape.is_empty() {
            write!(f, "\\u{:04x}", c as u32)?;
        } else {
            f.write_str(escape)?;
        }
        start = i + c.len_utf8();
    }
    f.write_str(&s[start..])?;
    f.write_char('"')
}

/// Compact JSON: no whitespace at all. Use [`Json::pretty`] for people.
impl fmt::Display for Json {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Json::Null => f.write_str("null"),
            Json::Bool(b) => write!(f, "{b}"),
            Json::Number(x) => write_number(f, *x),
            Json::String(s) => write_string(f, s),
            Json::Array(items) => {
                f.write_char('[')?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_char(',')?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_char(']')
            }
            Json::Object(pairs) => {
                f.write_char('{')?;
                for (i, (key, value)) in pairs.iter().enumerate() {
                    if i > 0 {
                        f.write_char(',')?;
                    }
                    write_string(f, key)?;
                    write!(f, ":{value}")?;
                }
                f.write_char('}')
            }
        }
    }
}

impl From<f64> for Json {
    fn from(x: f64) -> Self {
        Json::Number(x)
    }
}

/// Goes through the `f32`'s own shortest decimal form, so `0.1f32` is written `0.1`, not
/// `0.10000000149011612` (the exact value of the nearest `f32`, which `as f64` would give).
impl From<f32> for Json {
    fn from(x: f32) -> Self {
        if x.is_finite() {
            // The shortest decimal that round-trips as f32 always parses as f64.
            Json::Number(x.to_string().parse().unwrap_or(x as f64))
        } else {
            Json::Number(x as f64)
        }
    }
}

/// Integers become `f64` numbers: exact up to 2⁵³, which covers every count this crate
/// writes (see [`Json`] for why larger ones are not kept exactly).
macro_rules! from_integer {
    ($($t:ty),*) => {$(
        impl From<$t> for Json {
            fn from(n: $t) -> Self {
                Json::Number(n as f64)
            }
        }
    )*};
}
from_integer!(usize, u64, u32, i64, i32);

impl From<bool> for Json {
    fn from(b: bool) -> Self {
        Json::Bool(b)
    }
}

impl From<&str> for Json {
    fn from(s: &str) -> Self {
        Json::String(s.to_string())
    }
}

impl From<String> for Json {
    fn from(s: String) -> Self {
        Json::String(s)
    }
}

/// `None` becomes `null`: a metric that was not measured (no test set, say) is still listed,
/// so scripts find the key and see it is empty.
impl<T: Into<Json>> From<Option<T>> for Json {
    fn from(v: Option<T>) -> Self {
        v.map_or(Json::Null, Into::into)
    }
}

/// An array of anything that converts: `Vec<Json>`, `Vec<f64>`, `Vec<usize>`, ….
impl<T: Into<Json>> From<Vec<T>> for Json {
    fn from(items: Vec<T>) -> Self {
        Json::Array(items.into_iter().map(Into::into).collect())
    }
}

/// Why [`Json::parse`] refused a text, and where: what was wrong, at which byte offset
/// (from 0), line and column (from 1).
///
/// The column counts characters, not bytes, so it is the one an editor shows. `Display`
/// writes all of it on one line, `offset 11 (line 1, column 12): trailing comma before ']'`,
/// for a person who edited the file by hand; a caller that reads JSON from inside another
/// file (a safetensors header, say) adds [`offset`](JsonError::offset) to where the JSON
/// starts, to name the byte in the whole file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JsonError {
    offset: usize,
    line: usize,
    column: usize,
    message: String,
}

impl JsonError {
    /// The byte offset in the text where the problem is, from 0.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// The line of [`offset`](JsonError::offset), from 1.
    pub fn line(&self) -> usize {
        self.line
    }

    /// The column of [`offset`](JsonError::offset) in its line, in characters, from 1.
    pub fn column(&self) -> usize {
        self.column
    }

    /// What was wrong, without the place: `trailing comma before ']'`.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "offset {} (line {}, column {}): {}",
            self.offset, self.line, self.column, self.message
        )
    }
}

impl std::error::Error for JsonError {}

/// How deep arrays and objects may nest before the parser gives up (`serde_json`'s default).
const MAX_DEPTH: usize = 128;

/// A recursive-descent parser over the grammar of RFC 8259 §2–7. `pos` is a byte offset and
/// always lies on a character boundary.
struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    depth: usize,
}

impl Parser<'_> {
    /// An error at byte offset `at`.
    fn error_at(&self, at: usize, message: impl fmt::Display) -> JsonError {
        let before = &self.text[..at];
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        JsonError {
            offset: at,
            line: before.matches('\n').count() + 1,
            column: before[line_start..].chars().count() + 1,
            message: message.to_string(),
        }
    }

    fn error_here(&self, message: impl fmt::Display) -> JsonError {
        self.error_at(self.pos, message)
    }

    /// Describes what is at the current position, for "expected …, found …" messages.
    fn found(&self) -> String {
        match self.text[self.pos..].chars().next() {
            None => "end of input".to_string(),
            Some(c) => format!("{c:?}"),
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    /// RFC 8259 §2: whitespace is space, tab, line feed and carriage return, nothing else.
    fn skip_whitespace(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    fn value(&mut self) -> Result<Json, JsonError> {
        match self.peek() {
            Some(b'{') => self.nested(Self::object),
            Some(b'[') => self.nested(Self::array),
            Some(b'"') => self.string().map(Json::String),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(b'\'') => {
                Err(self
                    .error_here("single quotes are not JSON; strings and keys use double quotes"))
            }
            Some(c) if c.is_ascii_alphabetic() => self.word(),
            _ => Err(self.error_here(format!("expected a value, found {}", self.found()))),
        }
    }

    /// Parses an array or object one level deeper, refusing to go past [`MAX_DEPTH`].
    fn nested(
        &mut self,
        parse: fn(&mut Self) -> Result<Json, JsonError>,
    ) -> Result<Json, JsonError> {
        if self.depth == MAX_DEPTH {
            return Err(self.error_here(format!("nesting deeper than {MAX_DEPTH} levels")));
        }
        self.depth += 1;
        let value = parse(self);
        self.depth -= 1;
        value
    }

    /// `true`, `false`, `null`, or a helpful refusal of the words people try instead.
    fn word(&mut self) -> Result<Json, JsonError> {
        let start = self.pos;
        let len = self.bytes[start..]
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
            .count();
        let word = &self.text[start..start + len];
        let value = match word {
            "true" => Json::Bool(true),
            "false" => Json::Bool(false),
            "null" => Json::Null,
            "NaN" | "Infinity" => {
                return Err(self.error_at(
                    start,
                    format!("{word} is not valid JSON: JSON numbers must be finite"),
                ));
            }
            _ => {
                return Err(self.error_at(
                    start,
                    format!(
                        "expected a value, found the word `{word}` \
                         (JSON's only words are true, false and null)"
                    ),
                ));
            }
        };
        self.pos += len;
        Ok(value)
    }

    fn array(&mut self) -> Result<Json, JsonError> {
        self.pos += 1; // '['
        let mut items = Vec::new();
        self.skip_whitespace();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(Json::Array(items));
        }
        loop {
            self.skip_whitespace();
            items.push(self.value()?);
            self.skip_whitespace();
            if self.end_of_list(b']', "an array element")? {
                return Ok(Json::Array(items));
            }
        }
    }

    fn object(&mut self) -> Result<Json, JsonError> {
        self.pos += 1; // '{'
        let mut pairs = Vec::new();
        let mut seen = HashSet::new();
        self.skip_whitespace();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(Json::Object(pairs));
        }
        loop {
            self.skip_whitespace();
            let key_start = self.pos;
            let key = match self.peek() {
                Some(b'"') => self.string()?,
                Some(b'\'') => {
                    return Err(self.error_here(
                        "single quotes are not JSON; strings and keys use double quotes",
                    ));
                }
                _ => {
                    return Err(self.error_here(format!(
                        "expected a double-quoted key, found {}",
                        self.found()
                    )));
                }
            };
            if !seen.insert(key.clone()) {
                return Err(self.error_at(key_start, format!("duplicate key {key:?}")));
            }
            self.skip_whitespace();
            if self.peek() != Some(b':') {
                return Err(self.error_here(format!(
                    "expected ':' after the key {key:?}, found {}",
                    self.found()
                )));
            }
            self.pos += 1;
            self.skip_whitespace();
            let value = self.value()?;
            pairs.push((key, value));
            self.skip_whitespace();
            if self.end_of_list(b'}', "an object member")? {
                return Ok(Json::Object(pairs));
            }
        }
    }

    /// After an element of an array or object: consumes a `,` (returns false: more to come)
    /// or the closing bracket `close` (returns true); anything else, or a comma right before
    /// the close, is an error naming `what` came before it.
    fn end_of_list(&mut self, close: u8, what: &str) -> Result<bool, JsonError> {
        match self.peek() {
            Some(b',') => {
                let comma = self.pos;
                self.pos += 1;
                self.skip_whitespace();
                if self.peek() == Some(close) {
                    let message = format!("trailing comma before '{}'", close as char);
                    return Err(self.error_at(comma, message));
                }
                Ok(false)
            }
            Some(c) if c == close => {
                self.pos += 1;
                Ok(true)
            }
            _ => Err(self.error_here(format!(
                "expected ',' or '{}' after {what}, found {}",
                close as char,
                self.found()
            ))),
        }
    }

    /// A string literal (RFC 8259 §7), with the cursor on its opening quote.
    fn string(&mut self) -> Result<String, JsonError> {
        let open = self.pos;
        self.pos += 1;
        let mut out = String::new();
        loop {
            // Copy the run of ordinary characters up to the next quote, backslash or control
            // character. All three are ASCII, so the run ends on a character boundary.
            let run = self.bytes[self.pos..]
                .iter()
                .take_while(|&&b| b != b'"' && b != b'\\' && b >= 0x20)
                .count();
            out.push_str(&self.text[self.pos..self.pos + run]);
            self.pos += run;
            match self.peek() {
                None => {
                    return Err(self.error_at(open, "unterminated string: no closing '\"'"));
                }
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => out.push(self.escape()?),
                Some(c) => {
                    return Err(self.error_here(format!(
                        "raw control character U+{c:04X} in a string; write it as \\u{c:04x}"
                    )));
                }
            }
        }
    }

    /// One escape sequence, with the cursor on its backslash.
    fn escape(&mut self) -> Result<char, JsonError> {
        let start = self.pos;
        self.pos += 1;
        let c = match self.peek() {
            Some(b'"') => '"',
            Some(b'\\') => '\\',
            Some(b'/') => '/',
            Some(b'b') => '\u{8}',
            Some(b'f') => '\u{c}',
            Some(b'n') => '\n',
            Some(b'r') => '\r',
            Some(b't') => '\t',
            Some(b'u') => {
                self.pos += 1;
                let unit = self.hex4(start)?;
                return match unit {
                    // A high surrogate must be followed by an escaped low surrogate: together
                    // they encode one character beyond U+FFFF (RFC 8259 §7, UTF-16 §3.9).
                    0xD800..=0xDBFF => {
                        if !self.text[self.pos..].starts_with("\\u") {
                            return Err(self.error_at(
                                start,
                                format!("unpaired surrogate \\u{unit:04x}: expected \\u for its low half"),
                            ));
                        }
                        let low_start = self.pos;
                        self.pos += 2;
                        let low = self.hex4(low_start)?;
                        if !(0xDC00..=0xDFFF).contains(&low) {
                            return Err(self.error_at(
                                low_start,
                                format!("\\u{low:04x} is not a low surrogate, so \\u{unit:04x} is unpaired"),
                            ));
                        }
                        let code = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
                        Ok(char::from_u32(code).expect("a surrogate pair is a valid scalar"))
                    }
                    0xDC00..=0xDFFF => Err(self.error_at(
                        start,
                        format!("unpaired surrogate \\u{unit:04x}: a low half with no high half"),
                    )),
                    _ => Ok(char::from_u32(unit).expect("not a surrogate, so a valid scalar")),
                };
            }
            _ => {
                return Err(self.error_at(
                    start,
                    format!("invalid escape '\\' followed by {}", self.found()),
                ));
            }
        };
        self.pos += 1;
        Ok(c)
    }

    /// Four hex digits of a `\u` escape that began at `start`.
    fn hex4(&mut self, start: usize) -> Result<u32, JsonError> {
        let digits = self.bytes.get(self.pos..self.pos + 4);
        match digits {
            Some(d) if d.iter().all(u8::is_ascii_hexdigit) => {
                let hex = std::str::from_utf8(d).expect("ASCII");
                self.pos += 4;
                Ok(u32::from_str_radix(hex, 16).expect("four hex digits"))
            }
            _ => Err(self.error_at(start, "\\u must be followed by four hex digits")),
        }
    }

    /// A number (RFC 8259 §6): `-? (0 | [1-9][0-9]*) (\.[0-9]+)? ([eE][+-]?[0-9]+)?`.
    ///
    /// We check the grammar here and leave the conversion to `str::parse::<f64>`, which
    /// accepts a superset of it and rounds correctly.
    fn number(&mut self) -> Result<Json, JsonError> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => {
                self.pos += 1;
                if let Some(b'0'..=b'9') = self.peek() {
                    return Err(self.error_at(start, "leading zeros are not allowed in numbers"));
                }
            }
            Some(b'1'..=b'9') => self.digits(),
            _ if self.text[self.pos..].starts_with("Infinity") => {
                return Err(self.error_at(
                    start,
                    "-Infinity is not valid JSON: JSON numbers must be finite",
                ));
            }
            _ => {
                return Err(self.error_here(format!(
                    "expected a digit after '-', found {}",
                    self.found()
                )));
            }
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.error_here(format!(
                    "expected a digit after the decimal point, found {}",
                    self.found()
                )));
            }
            self.digits();
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.error_here(format!(
                    "expected a digit in the exponent, found {}",
                    self.found()
                )));
            }
            self.digits();
        }
        let literal = &self.text[start..self.pos];
        let x: f64 = literal
            .parse()
            .expect("the JSON number grammar is valid for f64");
        if x.is_infinite() {
            return Err(self.error_at(start, format!("number {literal} is too large for f64")));
        }
        Ok(Json::Number(x))
    }

    fn digits(&mut self) {
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
    }
}
