//! The DSL's function wrappers (`stack/dsl/src/functions/builtin.rs`) are exactly what the
//! generator makes of the committed `terraform metadata functions -json` output
//! (`functions/terraform-1.11.4-functions.json`): CI fails when someone edits the generated file
//! or the generator without regenerating
//! (`UPDATE_GENERATED=1 cargo test -p callflow-codegen --test functions` rewrites it).

use std::path::PathBuf;

const TERRAFORM: &str = "Terraform 1.11.4";
const COMMAND: &str = "UPDATE_GENERATED=1 cargo test -p callflow-codegen --test functions";

fn metadata_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("functions/terraform-1.11.4-functions.json")
}

fn generated_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../dsl/src/functions/builtin.rs")
}

fn regenerate() -> callflow_codegen::functions::GeneratedFunctions {
    let path = metadata_path();
    let text = std::fs::read_to_string(&path).expect("the committed functions metadata");
    callflow_codegen::functions::generate(&path.display().to_string(), &text, TERRAFORM, COMMAND)
        .unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn committed_function_wrappers_are_current() {
    let started = std::time::Instant::now();
    let generated = regenerate();
    eprintln!(
        "{} functions generated ({} core:: aliases left out) in {:.2} ms",
        generated.functions,
        generated.skipped,
        started.elapsed().as_secs_f64() * 1000.0
    );
    if std::env::var_os("UPDATE_GENERATED").is_some() {
        std::fs::write(generated_path(), &generated.text).expect("write builtin.rs");
        return;
    }
    let committed = std::fs::read_to_string(generated_path()).unwrap_or_default();
    assert!(
        committed == generated.text,
        "stack/dsl/src/functions/builtin.rs is stale: run {COMMAND}"
    );
    // Every built-in of this Terraform, and each alias skipped, not lost.
    assert_eq!(generated.functions, 118);
    assert_eq!(generated.skipped, 118);
}

#[test]
fn committed_wrappers_are_rustfmt_clean() {
    let Ok(version) = std::process::Command::new("rustfmt")
        .arg("--version")
        .output()
    else {
        eprintln!("rustfmt not on PATH: skipped");
        return;
    };
    assert!(version.status.success());
    let out = std::process::Command::new("rustfmt")
        .args(["--edition", "2024", "--check"])
        .arg(generated_path())
        .output()
        .expect("rustfmt runs");
    assert!(
        out.status.success(),
        "builtin.rs is not rustfmt-clean:\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

mod with_terraform {
    //! Every generated wrapper called once, with literal arguments, in one configuration that
    //! the real `terraform plan` evaluates (each call is a `terraform_data` input): a wrapper
    //! whose arity, parameter order or rendered syntax is wrong fails the plan, and one whose
    //! Rust signature is wrong does not compile. Terraform is found through `$TERRAFORM`, else
    //! `/usr/local/bin/terraform`, else `PATH`; without it the test prints `SKIPPED` and passes,
    //! unless `CALLFLOW_REQUIRE_TERRAFORM` is set.

    use std::collections::{BTreeMap, BTreeSet};
    use std::path::{Path, PathBuf};
    use std::process::Command;

    use callflow_dsl::functions::*;
    use callflow_dsl::{Dynamic, Expression, Tf};
    use serde_json::{Value, json};

    fn terraform() -> Option<PathBuf> {
        let found = std::env::var_os("TERRAFORM")
            .map(PathBuf::from)
            .or_else(|| Some(PathBuf::from("/usr/local/bin/terraform")).filter(|p| p.is_file()))
            .or_else(|| {
                let out = Command::new("terraform").arg("version").output().ok()?;
                out.status.success().then(|| PathBuf::from("terraform"))
            });
        if found.is_none() {
            assert!(
                std::env::var_os("CALLFLOW_REQUIRE_TERRAFORM").is_none(),
                "terraform is required (CALLFLOW_REQUIRE_TERRAFORM is set) but was not found"
            );
            eprintln!("SKIPPED: no terraform binary ($TERRAFORM, /usr/local/bin/terraform, PATH)");
        }
        found
    }

    fn run(terraform: &Path, dir: &Path, args: &[&str]) -> String {
        let out = Command::new(terraform)
            .args(args)
            .current_dir(dir)
            .env("TF_CLI_CONFIG_FILE", dir.join("empty.tfrc"))
            .env("TF_IN_AUTOMATION", "1")
            .output()
            .expect("terraform runs");
        assert!(
            out.status.success(),
            "terraform {args:?} failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8")
    }

    /// A file of the configuration's directory (`${path.module}/name`).
    fn module_file(name: &str) -> Tf<String> {
        Tf::template([
            Tf::expr(Expression::raw("path.module")),
            format!("/{name}").into(),
        ])
    }

    /// One call of every wrapper, each with arguments its function accepts.
    fn calls() -> Vec<Tf<Dynamic>> {
        let hello = module_file("hello.txt");
        // Unknown at plan time (the id of a resource being created): the call is type-checked
        // but not evaluated (rsadecrypt needs a real ciphertext).
        let unknown: Tf<String> = Tf::expr(Expression::raw("terraform_data.unknown.id"));
        // templatestring takes its template only through a reference.
        let template: Tf<String> = Tf::expr(Expression::raw("local.template"));
        let empty: Vec<&str> = Vec::new();
        vec![
            abs(-3).as_dynamic(),
            abspath("x").as_dynamic(),
            alltrue(vec![true, false]).as_dynamic(),
            anytrue(vec![true]).as_dynamic(),
            base64decode("aGk=").as_dynamic(),
            base64encode("hi").as_dynamic(),
            base64gzip("hi").as_dynamic(),
            base64sha256("hi").as_dynamic(),
            base64sha512("hi").as_dynamic(),
            basename("/a/b").as_dynamic(),
            bcrypt("pw", &[&5]).as_dynamic(),
            can("x").as_dynamic(),
            ceil(1.5).as_dynamic(),
            chomp("x\n").as_dynamic(),
            chunklist(vec![1, 2, 3], 2).value(),
            cidrhost("10.0.0.0/8", 2).as_dynamic(),
            cidrnetmask("10.0.0.0/8").as_dynamic(),
            cidrsubnet("10.0.0.0/8", 8, 2).as_dynamic(),
            cidrsubnets("10.0.0.0/8", &[&4, &4]).value(),
            coalesce(&[&"", &"b"]),
            coalescelist(&[&empty, &vec!["a"]]),
            compact(vec!["a", ""]).value(),
            concat(&[&vec!["a"], &vec!["b"]]),
            contains(vec!["a"], "a"),
            csvdecode("a,b\n1,2\n"),
            dirname("/a/b").as_dynamic(),
            distinct(vec!["a", "a"]).value(),
            element(vec!["a", "b"], 1),
            endswith("abc", "c").as_dynamic(),
            ephemeralasnull("x"),
            file(&hello).as_dynamic(),
            filebase64(&hello).as_dynamic(),
            filebase64sha256(&hello).as_dynamic(),
            filebase64sha512(&hello).as_dynamic(),
            fileexists(&hello).as_dynamic(),
            filemd5(&hello).as_dynamic(),
            fileset(Tf::<String>::expr(Expression::raw("path.module")), "*.txt").value(),
            filesha1(&hello).as_dynamic(),
            filesha256(&hello).as_dynamic(),
            filesha512(&hello).as_dynamic(),
            flatten(json!([["a"], ["b"]])),
            floor(1.5).as_dynamic(),
            format("%s-%d", &[&"a", &1]),
            formatdate("YYYY", "2024-01-01T00:00:00Z").as_dynamic(),
            formatlist("%s!", &[&vec!["a", "b"]]),
            indent(2, "a\nb").as_dynamic(),
            index(vec!["a", "b"], "b"),
            issensitive("x").as_dynamic(),
            join(",", &[&vec!["a", "b"], &vec!["c"]]).as_dynamic(),
            jsondecode("{\"a\": 1}"),
            jsonencode(json!({"a": 1})).as_dynamic(),
            keys(json!({"a": 1})),
            length(vec!["a"]).as_dynamic(),
            log(8, 2).as_dynamic(),
            lookup(json!({"a": "b"}), "a", &[&"c"]),
            lower("A").as_dynamic(),
            matchkeys(vec!["a", "b"], vec!["x", "y"], vec!["y"]).value(),
            max(&[&1, &2]).as_dynamic(),
            md5("x").as_dynamic(),
            merge(&[&json!({"a": 1}), &json!({"b": 2})]),
            min(&[&1, &2]).as_dynamic(),
            nonsensitive(sensitive("x")),
            one(vec!["a"]),
            parseint("ff", 16),
            pathexpand("/x").as_dynamic(),
            plantimestamp().as_dynamic(),
            pow(2, 3).as_dynamic(),
            range(&[&3]).value(),
            regex("a(b)", "abc"),
            regexall("a", "aa").value(),
            replace("abc", "b", "x").as_dynamic(),
            reverse(vec!["a", "b"]),
            rsadecrypt(&unknown, "not a key").as_dynamic(),
            sensitive("x"),
            setintersection(vec!["a"], &[&vec!["a", "b"]]).value(),
            setproduct(&[&vec!["a"], &vec!["b"]]),
            setsubtract(vec!["a", "b"], vec!["a"]).value(),
            setunion(vec!["a"], &[&vec!["b"]]).value(),
            sha1("x").as_dynamic(),
            sha256("x").as_dynamic(),
            sha512("x").as_dynamic(),
            signum(-2).as_dynamic(),
            slice(vec!["a", "b", "c"], 0, 2),
            sort(vec!["b", "a"]).value(),
            split(",", "a,b").value(),
            startswith("abc", "a").as_dynamic(),
            strcontains("abc", "b").as_dynamic(),
            strrev("abc").as_dynamic(),
            substr("abc", 0, 1).as_dynamic(),
            sum(vec![1, 2]),
            templatefile(module_file("greeting.tftpl"), json!({"name": "x"})),
            templatestring(&template, json!({"name": "x"})).as_dynamic(),
            textdecodebase64("aGk=", "UTF-8").as_dynamic(),
            textencodebase64("hi", "UTF-8").as_dynamic(),
            timeadd("2024-01-01T00:00:00Z", "1h").as_dynamic(),
            timecmp("2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z").as_dynamic(),
            timestamp().as_dynamic(),
            title("a b").as_dynamic(),
            tobool("true").as_dynamic(),
            tolist(vec!["a"]).value(),
            tomap(json!({"a": "b"})).value(),
            tonumber("1").as_dynamic(),
            toset(vec!["a"]).value(),
            tostring(1).as_dynamic(),
            transpose(BTreeMap::from([("a".to_string(), vec!["1", "2"])])).value(),
            trim("?a?", "?").as_dynamic(),
            trimprefix("ab", "a").as_dynamic(),
            trimspace(" a ").as_dynamic(),
            trimsuffix("ab", "b").as_dynamic(),
            r#try(&[&"a"]),
            upper("a").as_dynamic(),
            urlencode("a b").as_dynamic(),
            uuid().as_dynamic(),
            uuidv5("dns", "example.com").as_dynamic(),
            values(json!({"a": 1})),
            yamldecode("a: 1"),
            yamlencode(json!({"a": 1})).as_dynamic(),
            zipmap(vec!["a"], vec![1]),
        ]
    }

    /// The function a rendered call calls: `${name(...)}` → `name`.
    fn called(call: &Value) -> String {
        let text = call.as_str().expect("a call renders as a string");
        let inner = text.strip_prefix("${").expect("an interpolation");
        inner[..inner.find('(').expect("a call")].to_string()
    }

    #[test]
    fn every_wrapper_is_a_call_terraform_plans() {
        let scratch = tempfile::tempdir().expect("tempdir");
        let dir = scratch.path();
        let calls: Vec<Value> = calls().iter().map(Tf::to_tf_json).collect();

        // Coverage: one call per built-in of the committed metadata, none twice.
        let metadata = std::fs::read_to_string(super::metadata_path()).expect("metadata");
        let metadata: Value = serde_json::from_str(&metadata).expect("JSON");
        let builtins: BTreeSet<String> = metadata["function_signatures"]
            .as_object()
            .expect("signatures")
            .keys()
            .filter(|n| !n.contains("::"))
            .cloned()
            .collect();
        let mut inputs = serde_json::Map::new();
        for call in &calls {
            let name = called(call);
            assert!(
                inputs.insert(name.clone(), call.clone()).is_none(),
                "{name} is called twice"
            );
        }
        let covered: BTreeSet<String> = inputs.keys().cloned().collect();
        assert_eq!(covered, builtins, "every built-in is called exactly once");

        let Some(terraform) = terraform() else {
            return;
        };
        std::fs::write(dir.join("empty.tfrc"), "").expect("write CLI config");
        std::fs::write(dir.join("hello.txt"), "hello").expect("write file");
        std::fs::write(dir.join("greeting.tftpl"), "Hello, ${name}").expect("write template");
        let config = json!({
            "locals": { "template": "Hello, $${name}" },
            "resource": { "terraform_data": {
                "unknown": { "input": "x" },
                "calls": { "input": Value::Object(inputs) },
            }},
        });
        std::fs::write(
            dir.join("main.tf.json"),
            serde_json::to_string_pretty(&config).expect("JSON"),
        )
        .expect("write configuration");
        run(
            &terraform,
            dir,
            &["init", "-input=false", "-no-color", "-backend=false"],
        );
        run(&terraform, dir, &["validate", "-no-color"]);
        run(
            &terraform,
            dir,
            &[
                "plan",
                "-input=false",
                "-no-color",
                "-lock=false",
                "-out=tfplan",
            ],
        );
        let shown: Value =
            serde_json::from_str(&run(&terraform, dir, &["show", "-json", "tfplan"]))
                .expect("plan JSON");
        let planned = shown["resource_changes"]
            .as_array()
            .expect("changes")
            .iter()
            .find(|c| c["address"] == "terraform_data.calls")
            .expect("terraform_data.calls is planned");
        let input = &planned["change"]["after"]["input"];
        // Evaluated by Terraform, not just accepted.
        assert_eq!(input["abs"], json!(3));
        assert_eq!(input["join"], json!("a,b,c"));
        assert_eq!(input["cidrsubnets"], json!(["10.0.0.0/12", "10.16.0.0/12"]));
        assert_eq!(input["format"], json!("a-1"));
        assert_eq!(input["file"], json!("hello"));
        assert_eq!(input["templatefile"], json!("Hello, x"));
        assert_eq!(input["templatestring"], json!("Hello, x"));
        assert_eq!(input["lookup"], json!("b"));
        assert_eq!(input["transpose"], json!({"1": ["a"], "2": ["a"]}));
        assert_eq!(input["try"], json!("a"));
        assert_eq!(input["zipmap"], json!({"a": 1}));
    }
}
