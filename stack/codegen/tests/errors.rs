//! Bad input gets one clear error naming the file, the type and the JSON path, and a failed
//! write leaves the previous bindings as they were.

use callflow_codegen::{CodegenError, Options, Selection, generate};

fn doc(block: &str) -> String {
    format!(
        r#"{{"format_version": "1.0", "provider_schemas": {{"registry.terraform.io/acme/demo": {{
            "resource_schemas": {{"demo_thing": {{"version": 0, "block": {block}}}}}}}}}}}"#
    )
}

fn error_of(text: &str, selection: &Selection) -> String {
    generate("schema.json", text, selection, &Options::new("acme/demo"))
        .expect_err("must fail")
        .to_string()
}

#[test]
fn each_malformed_construct_is_named_with_file_type_and_path() {
    let all = Selection::all();
    let cases = [
        (
            "{not json".to_string(),
            "schema.json: at line 1, column 2: not a JSON document",
        ),
        (
            r#"{"format_version": "2.0"}"#.to_string(),
            "schema.json: at format_version: format_version `2.0` is not supported (1.x is)",
        ),
        (
            doc(r#"{"attributes": {"a": {"type": "strng", "optional": true}}}"#),
            "schema.json: type `demo_thing`: at provider_schemas[\"registry.terraform.io/acme/demo\"].resource_schemas.demo_thing.block.attributes.a.type: unknown primitive type `strng`",
        ),
        (
            doc(r#"{"attributes": {"a": {"type": ["bag", "string"], "optional": true}}}"#),
            "block.attributes.a.type: unknown type constructor `bag` (expected list, set, map, object or tuple)",
        ),
        (
            doc(
                r#"{"attributes": {"a": {"type": ["list", ["object", {"x": "string"}, ["y"]]], "optional": true}}}"#,
            ),
            "block.attributes.a.type[1][2][0]: not the name of an attribute of the object",
        ),
        (
            doc(r#"{"attributes": {"a": {"optional": true}}}"#),
            "block.attributes.a: has neither `type` nor `nested_type`",
        ),
        (
            doc(r#"{"attributes": {"a": {"type": "string"}}}"#),
            "block.attributes.a: is neither required, optional nor computed",
        ),
        (
            doc(
                r#"{"attributes": {"a": {"nested_type": {"nesting_mode": "group", "attributes": {}}, "optional": true}}}"#,
            ),
            "block.attributes.a.nested_type.nesting_mode: unknown nesting_mode `group` (expected single, list, set or map)",
        ),
        (
            doc(r#"{"block_types": {"b": {"nesting_mode": "tree", "block": {}}}}"#),
            "block.block_types.b.nesting_mode: unknown nesting_mode `tree` (expected single, group, list, set or map)",
        ),
        (
            doc(
                r#"{"block_types": {"b": {"nesting_mode": "list", "min_items": -1, "block": {}}}}"#,
            ),
            "block.block_types.b.min_items: not a non-negative integer",
        ),
        (
            doc(r#"{"attributes": {"a": {"type": "string", "required": "yes"}}}"#),
            "block.attributes.a.required: expected true or false, found a string",
        ),
    ];
    for (text, expected) in cases {
        let message = error_of(&text, &all);
        assert!(message.contains(expected), "`{message}` lacks `{expected}`");
        assert!(message.starts_with("schema.json"), "{message}");
    }
}

#[test]
fn unknown_types_and_globs_suggest_the_closest_names() {
    let text = doc(r#"{"attributes": {"a": {"type": "string", "optional": true}}}"#);
    let typo = Selection {
        resources: vec!["demo_thng".into()],
        data_sources: vec![],
    };
    assert_eq!(
        error_of(&text, &typo),
        "schema.json: resource type `demo_thng` is not in the schema of acme/demo; did you mean `demo_thing`?"
    );
    let glob = Selection {
        resources: vec!["demo_thing".into()],
        data_sources: vec!["demo_th*".into()],
    };
    assert_eq!(
        error_of(&text, &glob),
        "schema.json: data source `demo_th*` is not in the schema of acme/demo"
    );
    let err = generate(
        "schema.json",
        &text,
        &Selection::all(),
        &Options::new("hashicorp/aws"),
    )
    .expect_err("no such provider");
    assert!(matches!(err, CodegenError::NoProvider { .. }), "{err}");
    assert_eq!(
        err.to_string(),
        "schema.json: no provider `hashicorp/aws` in provider_schemas (found: registry.terraform.io/acme/demo)"
    );
}

#[test]
fn a_failed_write_leaves_the_previous_output() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let target = tmp.path().join("bindings");
    let first = [("lib.rs".to_string(), "// first\n".to_string())].into();
    callflow_codegen::write_dir(&target, &first).expect("first write");
    // A file name that cannot be created (a directory of that name is in the way).
    let bad = [
        ("a.rs".to_string(), "// second\n".to_string()),
        ("a.rs/b.rs".to_string(), "x".to_string()),
    ]
    .into();
    assert!(callflow_codegen::write_dir(&target, &bad).is_err());
    assert_eq!(
        std::fs::read_to_string(target.join("lib.rs")).expect("kept"),
        "// first\n"
    );
    assert!(!target.join("a.rs").exists());
    let leftovers: Vec<_> = std::fs::read_dir(tmp.path()).expect("dir").collect();
    assert_eq!(leftovers.len(), 1, "no staging directory is left behind");
    let second = [("mod.rs".to_string(), "// second\n".to_string())].into();
    callflow_codegen::write_dir(&target, &second).expect("second write");
    assert!(
        !target.join("lib.rs").exists(),
        "the directory is replaced, not merged"
    );
}

#[test]
fn keywords_and_colliding_names_get_deterministic_identifiers() {
    let text = doc(r#"{"attributes": {
            "type": {"type": "string", "optional": true},
            "self": {"type": "string", "optional": true},
            "fooBar": {"type": "string", "optional": true},
            "foo_bar": {"type": "string", "optional": true},
            "3d": {"type": "string", "optional": true}}}"#);
    let out = generate(
        "schema.json",
        &text,
        &Selection::all(),
        &Options::new("acme/demo"),
    )
    .expect("ok");
    let code = &out.files["thing.rs"];
    for expected in [
        "pub r#type: Option<Tf<String>>,",
        "#[serde(rename = \"self\", skip_serializing_if = \"Option::is_none\")]\n    pub self_: Option<Tf<String>>,",
        "#[serde(rename = \"fooBar\", skip_serializing_if = \"Option::is_none\")]\n    pub foo_bar: Option<Tf<String>>,",
        "#[serde(rename = \"foo_bar\", skip_serializing_if = \"Option::is_none\")]\n    pub foo_bar_2: Option<Tf<String>>,",
        "#[serde(rename = \"3d\", skip_serializing_if = \"Option::is_none\")]\n    pub _3d: Option<Tf<String>>,",
        "pub fn set_type(mut self, value: impl Into<Tf<String>>) -> Self {",
    ] {
        assert!(code.contains(expected), "missing `{expected}` in:\n{code}");
    }
}

#[test]
fn module_names_that_cargo_reserves_get_a_suffix() {
    let text = r#"{"format_version": "1.0", "provider_schemas": {"registry.terraform.io/acme/demo": {
        "resource_schemas": {
            "demo_main_route": {"version": 0, "block": {}},
            "demo_lib_x": {"version": 0, "block": {"attributes": {"id": {"type": "string", "computed": true}}}}
        }}}}"#;
    let out = generate(
        "schema.json",
        text,
        &Selection::all(),
        &Options::new("acme/demo"),
    )
    .expect("ok");
    assert!(out.files.contains_key("main_.rs"), "{:?}", out.files.keys());
    assert!(out.files.contains_key("lib_.rs"), "{:?}", out.files.keys());
    assert!(out.files["lib.rs"].contains("pub mod lib_;\npub mod main_;\n"));
    // A type without attributes has a unit references struct (nothing to read).
    assert!(out.files["main_.rs"].contains("pub struct MainRouteRefs;\n"));
}
