//! Tests of [`simplenn::json`]: the writer against the rules of RFC 8259, the parser against
//! valid and malformed texts, and the two against each other (everything written parses
//! back to the same value, bit for bit).

use simplenn::json::Json;

fn parse(text: &str) -> Json {
    Json::parse(text).unwrap_or_else(|e| panic!("{text:?} should parse, got: {e}"))
}

/// The error's `Display`, which the tests below check as a person reads it.
fn parse_err(text: &str) -> String {
    match Json::parse(text) {
        Ok(v) => panic!("{text:?} should not parse, got {v:?}"),
        Err(e) => e.to_string(),
    }
}

fn s(text: &str) -> Json {
    Json::String(text.to_string())
}

// ---------------------------------------------------------------- writing

#[test]
fn writes_every_value_type() {
    assert_eq!(Json::Null.to_string(), "null");
    assert_eq!(Json::Bool(true).to_string(), "true");
    assert_eq!(Json::Bool(false).to_string(), "false");
    assert_eq!(Json::Number(1.5).to_string(), "1.5");
    assert_eq!(s("hi").to_string(), r#""hi""#);
    assert_eq!(Json::Array(vec![]).to_string(), "[]");
    assert_eq!(Json::Object(vec![]).to_string(), "{}");
    let nested = Json::object([
        (
            "b",
            Json::Array(vec![Json::Null, Json::Bool(false), 2usize.into()]),
        ),
        ("a", Json::object([("x", s("y"))])),
    ]);
    // Insertion order, not alphabetical.
    assert_eq!(nested.to_string(), r#"{"b":[null,false,2],"a":{"x":"y"}}"#);
}

#[test]
fn writes_numbers_in_shortest_round_trip_form() {
    let cases: &[(f64, &str)] = &[
        (0.0, "0"),
        (-0.0, "-0"),
        (10.0, "10"),
        (-3.0, "-3"),
        (0.1, "0.1"),
        (0.97125, "0.97125"),
        (1.0 / 3.0, "0.3333333333333333"),
        (0.1 + 0.2, "0.30000000000000004"),
        (60000.0, "60000"),
        (9007199254740992.0, "9007199254740992"),
        (1e20, "100000000000000000000"),
        (1e21, "1e21"),
        (-2.5e300, "-2.5e300"),
        (1e-6, "0.000001"),
        (1.5e-7, "1.5e-7"),
        (f64::MAX, "1.7976931348623157e308"),
        (f64::MIN_POSITIVE, "2.2250738585072014e-308"),
        (5e-324, "5e-324"),
    ];
    for &(x, want) in cases {
        assert_eq!(Json::Number(x).to_string(), want, "writing {x:e}");
    }
}

#[test]
fn non_finite_numbers_are_written_as_null() {
    for x in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        assert_eq!(Json::from(x).to_string(), "null");
        assert_eq!(Json::from(vec![x]).pretty(), "[null]\n");
    }
}

#[test]
fn numbers_round_trip_bit_for_bit() {
    // Every finite f64 written must parse back to exactly the same bits. Sample bit patterns
    // from all exponents with a fixed LCG (Knuth's MMIX constants), plus edge cases.
    let mut state: u64 = 42;
    let mut values = vec![
        0.0,
        -0.0,
        1.0,
        f64::MAX,
        f64::MIN,
        f64::MIN_POSITIVE,
        5e-324,
        0.1,
    ];
    for _ in 0..20_000 {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let x = f64::from_bits(state);
        if x.is_finite() {
            values.push(x);
        }
    }
    for x in values {
        let text = Json::Number(x).to_string();
        let back = parse(&text).as_f64().unwrap();
        assert_eq!(back.to_bits(), x.to_bits(), "{x:e} was written as {text}");
    }
}

#[test]
fn escapes_quotes_backslashes_and_control_characters() {
    assert_eq!(s(r#"say "hi""#).to_string(), r#""say \"hi\"""#);
    assert_eq!(s(r"C:\data\x").to_string(), r#""C:\\data\\x""#);
    assert_eq!(
        s("a\nb\tc\r\u{0}\u{1f}").to_string(),
        r#""a\u000ab\u0009c\u000d\u0000\u001f""#
    );
    // Not control characters in JSON's sense: written as themselves.
    assert_eq!(
        s("\u{7f} / é 😀 \u{2028}").to_string(),
        "\"\u{7f} / é 😀 \u{2028}\""
    );
    // Keys are escaped the same way.
    assert_eq!(
        Json::object([("a\"b", Json::Null)]).to_string(),
        r#"{"a\"b":null}"#
    );
}

#[test]
fn every_string_round_trips() {
    let mut all_controls = String::new();
    for c in 0u8..0x20 {
        all_controls.push(c as char);
    }
    let strings = [
        "",
        "plain",
        "\"",
        "\\",
        "\\\"",
        "\"\\\"\\",
        "ends with backslash\\",
        &all_controls,
        "/slashes/ are fine",
        "café, naïve, Ελληνικά, 日本語",
        "astral: 😀 𝄞 🂡",
        "\u{fffd}\u{feff}\u{2028}\u{2029}",
    ];
    for text in strings {
        let value = s(text);
        assert_eq!(parse(&value.to_string()), value, "compact, {text:?}");
        assert_eq!(parse(&value.pretty()), value, "pretty, {text:?}");
        // The written form never contains a raw control character.
        assert!(!value.to_string().chars().any(|c| (c as u32) < 0x20));
    }
}

#[test]
fn pretty_indents_by_two_and_keeps_order() {
    let value = Json::object([
        ("name", s("run 1")),
        ("epochs", 3usize.into()),
        ("loss", vec![0.5, 0.25].into()),
        ("empty", Json::Array(vec![])),
        ("none", Json::Object(vec![])),
        (
            "per_epoch",
            Json::Array(vec![
                Json::object([("epoch", 1usize.into()), ("ok", true.into())]),
                Json::object([("epoch", 2usize.into()), ("ok", Json::Null)]),
            ]),
        ),
        ("matrix", Json::from(vec![vec![1usize, 0], vec![0, 1]])),
    ]);
    let want = r#"{
  "name": "run 1",
  "epochs": 3,
  "loss": [0.5, 0.25],
  "empty": [],
  "none": {},
  "per_epoch": [
    {
      "epoch": 1,
      "ok": true
    },
    {
      "epoch": 2,
      "ok": null
    }
  ],
  "matrix": [
    [1, 0],
    [0, 1]
  ]
}
"#;
    assert_eq!(value.pretty(), want);
    assert_eq!(parse(want), value);
    assert_eq!(Json::Null.pretty(), "null\n");
    assert_eq!(s("x").pretty(), "\"x\"\n");
}

#[test]
fn conversions() {
    assert_eq!(Json::from(2.5), Json::Number(2.5));
    assert_eq!(
        Json::from(0.1f32),
        Json::Number(0.1),
        "f32 keeps its short decimal form"
    );
    assert_eq!(Json::from(f32::NAN).to_string(), "null");
    assert_eq!(Json::from(7usize), Json::Number(7.0));
    assert_eq!(Json::from(7u64), Json::Number(7.0));
    assert_eq!(Json::from(-7i64), Json::Number(-7.0));
    assert_eq!(
        Json::from(-7),
        Json::Number(-7.0),
        "integer literals infer as i32"
    );
    assert_eq!(Json::from(true), Json::Bool(true));
    assert_eq!(Json::from("a"), s("a"));
    assert_eq!(Json::from(String::from("a")), s("a"));
    assert_eq!(Json::from(None::<f64>), Json::Null);
    assert_eq!(Json::from(Some(0.5)), Json::Number(0.5));
    assert_eq!(Json::from(Some("x")), s("x"));
    assert_eq!(
        Json::from(vec![Json::Null, Json::Bool(true)]),
        Json::Array(vec![Json::Null, Json::Bool(true)])
    );
    assert_eq!(Json::from(vec![Some(1usize), None]).to_string(), "[1,null]");
}

#[test]
fn accessors() {
    let v = parse(r#"{"a": 1.5, "b": "text", "c": [1, 2], "d": true, "e": {"f": null}}"#);
    assert_eq!(v.get("a").and_then(Json::as_f64), Some(1.5));
    assert_eq!(v.get("b").and_then(Json::as_str), Some("text"));
    assert_eq!(
        v.get("c").and_then(Json::as_array).map(<[Json]>::len),
        Some(2)
    );
    assert_eq!(v.get("d").and_then(Json::as_bool), Some(true));
    assert_eq!(v.get("e").and_then(|e| e.get("f")), Some(&Json::Null));
    assert_eq!(v.as_object().map(|o| o[0].0.as_str()), Some("a"));
    assert_eq!(v.get("missing"), None);
    // Asking the wrong type is None, never a panic.
    assert_eq!(v.get("a").and_then(Json::as_str), None);
    assert_eq!(v.get("b").and_then(Json::as_f64), None);
    assert_eq!(v.get("c").and_then(|c| c.get("a")), None);
    assert_eq!(Json::Null.as_array(), None);
}

// ---------------------------------------------------------------- parsing valid input

#[test]
fn parses_every_value_type() {
    assert_eq!(parse("null"), Json::Null);
    assert_eq!(parse("true"), Json::Bool(true));
    assert_eq!(parse("false"), Json::Bool(false));
    assert_eq!(parse("0"), Json::Number(0.0));
    assert_eq!(parse(r#""""#), s(""));
    assert_eq!(parse("[]"), Json::Array(vec![]));
    assert_eq!(parse("{}"), Json::Object(vec![]));
    assert_eq!(
        parse(r#"{"z": [1, {"y": []}], "a": null}"#),
        Json::object([
            (
                "z",
                Json::Array(vec![
                    1usize.into(),
                    Json::object([("y", Json::Array(vec![]))])
                ])
            ),
            ("a", Json::Null),
        ])
    );
}

#[test]
fn parses_numbers_by_the_rfc_grammar() {
    let cases: &[(&str, f64)] = &[
        ("-0", -0.0),
        ("0.5", 0.5),
        ("-12.5e3", -12500.0),
        ("1E+2", 100.0),
        ("1e-2", 0.01),
        ("0e0", 0.0),
        ("123456789", 123456789.0),
        ("1.7976931348623157e308", f64::MAX),
        ("4.9e-324", 5e-324),
        ("1e-400", 0.0), // underflow rounds to zero, as everywhere
    ];
    for &(text, want) in cases {
        let got = parse(text).as_f64().unwrap();
        assert_eq!(got.to_bits(), want.to_bits(), "{text}");
    }
}

#[test]
fn parses_whitespace_only_where_the_rfc_allows() {
    let v = parse(" \t\r\n[ 1 ,\n\t2 ] \r\n");
    assert_eq!(v, Json::from(vec![1usize, 2]));
    // Form feed, vertical tab and no-break space are not JSON whitespace.
    for text in ["\u{c}1", "1\u{b}", "\u{a0}1"] {
        parse_err(text);
    }
}

#[test]
fn parses_escapes() {
    assert_eq!(
        parse(r#""\" \\ \/ \b \f \n \r \t \u0041 \u00e9 \u00E9 \u20AC""#),
        s("\" \\ / \u{8} \u{c} \n \r \t A é é €")
    );
    assert_eq!(parse(r#""\u0000""#), s("\u{0}"));
    // Raw UTF-8 is fine too.
    assert_eq!(parse("\"日本 😀\""), s("日本 😀"));
}

#[test]
fn parses_surrogate_pairs() {
    // U+1F600 GRINNING FACE is D83D DE00 in UTF-16; U+1D11E MUSICAL SYMBOL G CLEF is D834 DD1E;
    // U+10FFFF, the last code point, is DBFF DFFF; U+10000, the first astral one, D800 DC00.
    assert_eq!(parse(r#""\ud83d\ude00""#), s("😀"));
    assert_eq!(parse(r#""\uD834\uDD1E""#), s("𝄞"));
    assert_eq!(parse(r#""\udbff\udfff""#), s("\u{10ffff}"));
    assert_eq!(parse(r#""a\ud800\udc00b""#), s("a\u{10000}b"));
}

#[test]
fn parses_nesting_up_to_128_levels() {
    let deep = format!("{}{}", "[".repeat(128), "]".repeat(128));
    parse(&deep);
    let deeper = format!("{}{}", "[".repeat(129), "]".repeat(129));
    assert!(parse_err(&deeper).contains("nesting deeper than 128"));
    // Far deeper input fails cleanly too, instead of overflowing the stack.
    let abyss = "[{\"a\":".repeat(100_000);
    assert!(parse_err(&abyss).contains("nesting"));
}

// ---------------------------------------------------------------- parsing malformed input

#[test]
fn malformed_inputs_are_rejected_with_offset_and_reason() {
    // (input, byte offset reported, words the message must contain)
    let cases: &[(&str, usize, &str)] = &[
        ("", 0, "expected a value, found end of input"),
        ("   ", 3, "found end of input"),
        ("[1, 2,]", 5, "trailing comma before ']'"),
        ("{\"a\": 1,}", 7, "trailing comma before '}'"),
        ("[,1]", 1, "expected a value, found ','"),
        ("{,}", 1, "expected a double-quoted key"),
        ("['a']", 1, "single quotes"),
        ("{'a': 1}", 1, "single quotes"),
        ("{a: 1}", 1, "expected a double-quoted key, found 'a'"),
        ("\"abc", 0, "unterminated string"),
        ("[\"abc]", 1, "unterminated string"),
        ("\"a\nb\"", 2, "raw control character U+000A"),
        ("\"tab\there\"", 4, "raw control character U+0009"),
        ("01", 0, "leading zeros"),
        ("-01", 0, "leading zeros"),
        ("[00]", 1, "leading zeros"),
        ("NaN", 0, "NaN is not valid JSON"),
        ("[1, NaN]", 4, "NaN is not valid JSON"),
        ("Infinity", 0, "Infinity is not valid JSON"),
        ("-Infinity", 0, "-Infinity is not valid JSON"),
        ("1.", 2, "expected a digit after the decimal point"),
        (".5", 0, "expected a value, found '.'"),
        ("+1", 0, "expected a value, found '+'"),
        ("-", 1, "expected a digit after '-', found end of input"),
        ("1e", 2, "expected a digit in the exponent"),
        ("1e+", 3, "expected a digit in the exponent"),
        ("1e400", 0, "too large"),
        ("-1e400", 0, "too large"),
        ("0x10", 1, "unexpected 'x' after the JSON value"),
        ("1 2", 2, "unexpected '2' after the JSON value"),
        ("{} x", 3, "after the JSON value"),
        (
            "[1 2]",
            3,
            "expected ',' or ']' after an array element, found '2'",
        ),
        (
            "[1",
            2,
            "expected ',' or ']' after an array element, found end of input",
        ),
        ("{\"a\" 1}", 5, "expected ':' after the key \"a\""),
        (
            "{\"a\": 1 \"b\": 2}",
            8,
            "expected ',' or '}' after an object member",
        ),
        ("{\"a\": 1, \"a\": 2}", 9, "duplicate key \"a\""),
        ("{\"a\":}", 5, "expected a value, found '}'"),
        ("tru", 0, "the word `tru`"),
        ("True", 0, "the word `True`"),
        ("nulll", 0, "the word `nulll`"),
        ("undefined", 0, "JSON's only words are true, false and null"),
        ("// comment\n1", 0, "expected a value, found '/'"),
        ("\"\\x\"", 1, "invalid escape '\\' followed by 'x'"),
        ("\"\\u12\"", 1, "four hex digits"),
        ("\"\\u12G4\"", 1, "four hex digits"),
        ("\"\\ud83d\"", 1, "unpaired surrogate \\ud83d"),
        ("\"\\ud83dx\"", 1, "unpaired surrogate \\ud83d"),
        ("\"\\ud83d\\u0041\"", 7, "\\u0041 is not a low surrogate"),
        ("\"\\ud83d\\ud83d\"", 7, "not a low surrogate"),
        ("\"\\ude00\"", 1, "a low half with no high half"),
        ("\"\\ud83d\\u12\"", 7, "four hex digits"),
    ];
    for &(text, offset, words) in cases {
        let err = parse_err(text);
        assert!(
            err.starts_with(&format!("offset {offset} ")),
            "{text:?}: expected offset {offset}, got: {err}"
        );
        assert!(
            err.contains(words),
            "{text:?}: expected {words:?} in: {err}"
        );
    }
}

#[test]
fn errors_give_line_and_column() {
    let text = "{\n  \"a\": 1,\n  \"b\": [1, 2,]\n}";
    assert_eq!(
        parse_err(text),
        "offset 24 (line 3, column 13): trailing comma before ']'"
    );
    // Columns count characters, not bytes: 'é' is two bytes.
    assert_eq!(
        parse_err("[\"é\" 1]"),
        "offset 6 (line 1, column 6): expected ',' or ']' after an array element, found '1'"
    );
}

#[test]
fn the_error_is_a_value_with_its_place_and_message_apart() {
    let err = Json::parse("[1,\n 2,\n x]").unwrap_err();
    assert_eq!((err.offset(), err.line(), err.column()), (9, 3, 2));
    assert!(
        err.message()
            .starts_with("expected a value, found the word `x`")
    );
    assert_eq!(
        err.to_string(),
        format!("offset 9 (line 3, column 2): {}", err.message())
    );
    // At the very end of the text, the place is one past the last byte.
    let err = Json::parse("[1, 2").unwrap_err();
    assert_eq!((err.offset(), err.line(), err.column()), (5, 1, 6));
    // A std::error::Error, so `?` carries it into a `Box<dyn Error>`.
    let boxed: Box<dyn std::error::Error> = Box::new(err.clone());
    assert_eq!(boxed.to_string(), err.to_string());
}

#[test]
fn parses_a_metrics_file_as_another_program_would_write_it() {
    // The shape Python's `json.dump(..., indent=4)` gives, exponents and all.
    let text = r#"{
    "config": {"epochs": 10, "batch": "full", "learning_rate": 5E-1},
    "epochs": [
        {"epoch": 1, "loss": 2.3025, "val_accuracy": null},
        {"epoch": 2, "loss": 1.0e0, "val_accuracy": 0.9}
    ],
    "note": "caf\u00e9"
}"#;
    let v = parse(text);
    let config = v.get("config").unwrap();
    assert_eq!(
        config.get("learning_rate").and_then(Json::as_f64),
        Some(0.5)
    );
    assert_eq!(config.get("batch").and_then(Json::as_str), Some("full"));
    let epochs = v.get("epochs").and_then(Json::as_array).unwrap();
    assert_eq!(epochs[1].get("loss").and_then(Json::as_f64), Some(1.0));
    assert_eq!(epochs[0].get("val_accuracy"), Some(&Json::Null));
    assert_eq!(v.get("note").and_then(Json::as_str), Some("café"));
    // And our own rendering of it parses back to the same value.
    assert_eq!(parse(&v.pretty()), v);
    assert_eq!(parse(&v.to_string()), v);
}
