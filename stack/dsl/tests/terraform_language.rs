//! The Terraform language constructs of the DSL, run by the real `terraform` CLI, offline, on
//! Terraform's builtin `terraform_data` resource (no provider download) with a local backend:
//! each test synthesizes DSL stacks, applies or plans them, and reads the plan through
//! `terraform show -json`.
//!
//! Terraform is found through `$TERRAFORM`, else `/usr/local/bin/terraform`, else `PATH`.
//! Without it these tests print `SKIPPED` and pass, unless `CALLFLOW_REQUIRE_TERRAFORM=1`,
//! where they fail.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use callflow_dsl::{Expression, ForEach, Lifecycle, Stack, Tf};
use callflow_provider_terraform::data::Data;
use callflow_provider_terraform::remote_state::DataRemoteState;
use serde_json::{Value, json};

fn terraform_binary() -> Option<PathBuf> {
    let found = std::env::var_os("TERRAFORM")
        .map(PathBuf::from)
        .or_else(|| Some(PathBuf::from("/usr/local/bin/terraform")).filter(|p| p.is_file()))
        .or_else(|| {
            std::env::var_os("PATH").and_then(|paths| {
                std::env::split_paths(&paths)
                    .map(|p| p.join("terraform"))
                    .find(|p| p.is_file())
            })
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

/// A working directory holding one synthesized stack, its local state and the CLI around it.
struct Workdir {
    terraform: PathBuf,
    dir: tempfile::TempDir,
    initialized: bool,
}

impl Workdir {
    fn new() -> Option<Self> {
        let terraform = terraform_binary()?;
        let dir = tempfile::tempdir().expect("tempdir");
        // An empty CLI configuration: the environment may point TF_CLI_CONFIG_FILE at a
        // missing file, which makes terraform warn.
        std::fs::write(dir.path().join("empty.tfrc"), "").expect("write CLI config");
        Some(Self {
            terraform,
            dir,
            initialized: false,
        })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Synthesizes `stack` into the directory (replacing the previous version) and inits once.
    fn write(&mut self, stack: &Stack) {
        let doc = stack
            .synth()
            .unwrap_or_else(|e| panic!("synth failed: {e}"));
        std::fs::write(self.path().join("cdk.tf.json"), callflow_dsl::render(&doc))
            .expect("write cdk.tf.json");
        if !self.initialized {
            self.ok(&["init", "-input=false", "-no-color"]);
            self.initialized = true;
        }
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(&self.terraform)
            .args(args)
            .current_dir(self.path())
            .env("TF_CLI_CONFIG_FILE", self.path().join("empty.tfrc"))
            .env("TF_IN_AUTOMATION", "1")
            .env_remove("TF_WORKSPACE")
            .output()
            .expect("terraform runs")
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "terraform {args:?} failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8")
    }

    fn apply(&self) {
        self.ok(&["apply", "-auto-approve", "-input=false", "-no-color"]);
    }

    /// `terraform plan -out` then `terraform show -json` of that plan; also the plan's text.
    fn plan(&self) -> (Plan, String) {
        let text = self.ok(&["plan", "-input=false", "-no-color", "-out=plan.bin"]);
        let json = self.ok(&["show", "-json", "plan.bin"]);
        (Plan(serde_json::from_str(&json).expect("plan JSON")), text)
    }

    /// Addresses in the state.
    fn state(&self) -> Vec<String> {
        let out = self.run(&["state", "list"]);
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_owned)
            .collect()
    }
}

/// A plan as `terraform show -json` prints it.
struct Plan(Value);

impl Plan {
    fn changes(&self) -> &[Value] {
        self.0["resource_changes"]
            .as_array()
            .map_or(&[], Vec::as_slice)
    }

    fn change(&self, address: &str) -> &Value {
        self.changes()
            .iter()
            .find(|c| c["address"] == address)
            .unwrap_or_else(|| {
                panic!(
                    "no change for {address} in {:#}",
                    self.0["resource_changes"]
                )
            })
    }

    fn actions(&self, address: &str) -> Vec<String> {
        self.change(address)["change"]["actions"]
            .as_array()
            .expect("actions")
            .iter()
            .map(|a| a.as_str().unwrap_or_default().to_owned())
            .collect()
    }

    /// How many changes have `action` among their actions.
    fn count(&self, action: &str) -> usize {
        self.changes()
            .iter()
            .filter(|c| {
                c["change"]["actions"]
                    .as_array()
                    .is_some_and(|a| a.iter().any(|x| x == action))
            })
            .count()
    }

    fn importing(&self) -> Vec<(&str, &str)> {
        self.changes()
            .iter()
            .filter_map(|c| {
                Some((
                    c["address"].as_str()?,
                    c["change"]["importing"]["id"].as_str()?,
                ))
            })
            .collect()
    }
}

fn stack() -> Stack {
    let mut stack = Stack::new("language");
    // The default backend is local: `terraform.language.tfstate` in the working directory.
    stack.required_version(">= 1.7");
    stack
}

#[test]
fn moved_renames_a_resource_without_replacing_it() {
    let Some(mut work) = Workdir::new() else {
        return;
    };
    let mut v1 = stack();
    let store = v1.resource("events_store", Data::new().set_input(json!("events")));
    v1.resource("reader", Data::new().set_input(store.output()));
    work.write(&v1);
    work.apply();
    let before = work.state();

    let mut v2 = stack();
    let events = v2.resource("events", Data::new().set_input(json!("events")));
    v2.resource("reader", Data::new().set_input(events.output()));
    v2.moved("terraform_data.events_store", &events);
    work.write(&v2);
    let (plan, text) = work.plan();
    assert_eq!(plan.count("create"), 0, "{text}");
    assert_eq!(plan.count("delete"), 0, "{text}");
    assert_eq!(plan.count("update"), 0, "{text}");
    let moved = plan.change("terraform_data.events");
    assert_eq!(moved["previous_address"], "terraform_data.events_store");
    assert_eq!(moved["change"]["actions"], json!(["no-op"]));
    assert!(
        text.contains("terraform_data.events_store has moved to terraform_data.events"),
        "{text}"
    );
    assert!(
        text.contains("Plan: 0 to add, 0 to change, 0 to destroy."),
        "{text}"
    );
    work.apply();
    assert_eq!(
        before,
        ["terraform_data.events_store", "terraform_data.reader"]
    );
    assert_eq!(
        work.state(),
        ["terraform_data.events", "terraform_data.reader"]
    );
}

#[test]
fn import_adopts_an_id_and_removed_forgets_without_destroying() {
    let Some(mut work) = Workdir::new() else {
        return;
    };
    let mut v1 = stack();
    let adopted = v1.resource("adopted", Data::new());
    v1.import(&adopted, "0f9c2f8e-0000-4000-8000-00000000abcd");
    v1.resource("retired", Data::new().set_input(json!("kept outside")));
    work.write(&v1);
    let (plan, text) = work.plan();
    assert_eq!(
        plan.importing(),
        [(
            "terraform_data.adopted",
            "0f9c2f8e-0000-4000-8000-00000000abcd"
        )]
    );
    assert!(
        text.contains("Plan: 1 to import, 1 to add, 0 to change, 0 to destroy."),
        "{text}"
    );
    work.ok(&["apply", "-input=false", "-no-color", "plan.bin"]);
    let shown = work.ok(&["state", "show", "-no-color", "terraform_data.adopted"]);
    assert!(
        shown.contains("0f9c2f8e-0000-4000-8000-00000000abcd"),
        "{shown}"
    );

    let mut v2 = stack();
    v2.resource("adopted", Data::new());
    v2.removed("terraform_data.retired", false);
    work.write(&v2);
    let (plan, text) = work.plan();
    assert_eq!(plan.actions("terraform_data.retired"), ["forget"]);
    assert_eq!(plan.count("delete"), 0, "{text}");
    assert!(
        text.contains("terraform_data.retired will no longer be managed by Terraform"),
        "{text}"
    );
    work.ok(&["apply", "-input=false", "-no-color", "plan.bin"]);
    assert_eq!(work.state(), ["terraform_data.adopted"]);
}

#[test]
fn count_and_for_each_apply_their_instances_and_a_changed_key_touches_only_its_instance() {
    let Some(mut work) = Workdir::new() else {
        return;
    };
    let build = |entries: &[(&str, &str)], count: u64| {
        let mut s = stack();
        let keyed = s.resource_for_each(
            "keyed",
            ForEach::<Tf<String>>::map(entries.iter().copied()),
            |each| {
                Data::new()
                    .set_input(each.key().as_dynamic())
                    .set_triggers_replace(each.value().as_dynamic())
            },
        );
        let counted = s.resource_with_count("counted", count, |i| {
            Data::new().set_input(i.index().as_dynamic())
        });
        let follower = s.resource(
            "follower",
            Data::new().set_input(Tf::expr(Expression::raw(format!(
                "[{}, {}]",
                keyed.instance("a").output().to_hcl(),
                counted.splat(|c| c.output()).expression()
            )))),
        );
        s.depends_on(&follower, &[&keyed, &counted]);
        s.lifecycle(
            &follower,
            Lifecycle::default().replaced_on_change(&keyed.instance("b").triggers_replace()),
        );
        s
    };
    work.write(&build(&[("a", "1"), ("b", "2"), ("c", "3")], 2));
    work.apply();
    assert_eq!(
        work.state(),
        [
            "terraform_data.counted[0]",
            "terraform_data.counted[1]",
            "terraform_data.follower",
            "terraform_data.keyed[\"a\"]",
            "terraform_data.keyed[\"b\"]",
            "terraform_data.keyed[\"c\"]",
        ]
    );
    let output = work.ok(&["state", "show", "-no-color", "terraform_data.counted[1]"]);
    assert!(output.contains("input  = 1"), "{output}");

    // b's value changes, c goes, d comes, one more counted instance.
    work.write(&build(&[("a", "1"), ("b", "20"), ("d", "4")], 3));
    let (plan, text) = work.plan();
    assert_eq!(
        plan.actions("terraform_data.keyed[\"a\"]"),
        ["no-op"],
        "{text}"
    );
    assert_eq!(
        plan.actions("terraform_data.keyed[\"b\"]"),
        ["delete", "create"],
        "{text}"
    );
    assert_eq!(plan.actions("terraform_data.keyed[\"c\"]"), ["delete"]);
    assert_eq!(plan.actions("terraform_data.keyed[\"d\"]"), ["create"]);
    assert_eq!(plan.actions("terraform_data.counted[0]"), ["no-op"]);
    assert_eq!(plan.actions("terraform_data.counted[1]"), ["no-op"]);
    assert_eq!(plan.actions("terraform_data.counted[2]"), ["create"]);
    // replace_triggered_by on b's triggers_replace: the follower is replaced with it.
    assert_eq!(
        plan.actions("terraform_data.follower"),
        ["delete", "create"],
        "{text}"
    );
    assert!(
        text.contains("Plan: 4 to add, 0 to change, 3 to destroy."),
        "{text}"
    );
}

#[test]
fn a_failing_check_warns_and_a_failing_precondition_stops_the_plan() {
    let Some(mut work) = Workdir::new() else {
        return;
    };
    let mut warned = stack();
    let config = warned.resource("config", Data::new().set_input(json!("v1")));
    warned.check("config_is_v2", |check| {
        check.assert(config.input().equals(json!("v2")), "config is not v2");
    });
    work.write(&warned);
    work.apply();
    let (plan, text) = work.plan();
    assert!(text.contains("Check block assertion failed"), "{text}");
    assert!(text.contains("config is not v2"), "{text}");
    let check = &plan.0["checks"][0];
    assert_eq!(check["address"]["name"], "config_is_v2");
    assert_eq!(check["status"], "fail");

    let mut stopped = stack();
    let config = stopped.resource("config", Data::new().set_input(json!("v1")));
    let app = stopped.resource("app", Data::new().set_input(config.output()));
    stopped.precondition(
        &app,
        config.input().equals(json!("v2")),
        "the app needs config v2",
    );
    work.write(&stopped);
    let out = work.run(&["plan", "-input=false", "-no-color"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "the plan must fail");
    assert!(stderr.contains("Resource precondition failed"), "{stderr}");
    assert!(stderr.contains("the app needs config v2"), "{stderr}");
    assert!(stderr.contains("terraform_data.app"), "{stderr}");

    // The postcondition reads `self` through the typed references.
    let mut post = stack();
    let config = post.resource("config", Data::new().set_input(json!("v1")));
    post.postcondition(
        &config,
        |this| this.input().equals(json!("v1")),
        "config changed under us",
    );
    work.write(&post);
    let (plan, _) = work.plan();
    assert_eq!(plan.count("delete"), 0);
}

#[test]
fn moved_into_and_out_of_for_each_and_count_instances() {
    let Some(mut work) = Workdir::new() else {
        return;
    };
    let mut single = stack();
    single.resource("site", Data::new().set_input(json!("eu")));
    work.write(&single);
    work.apply();

    // One resource becomes instance "eu" of a for_each resource.
    let mut keyed = stack();
    let sites = keyed.resource_for_each("site", ForEach::set(["eu"]), |each| {
        Data::new().set_input(each.value().as_dynamic())
    });
    keyed.moved("terraform_data.site", &sites.instance("eu"));
    work.write(&keyed);
    let (plan, text) = work.plan();
    assert_eq!(plan.count("create"), 0, "{text}");
    assert_eq!(plan.count("delete"), 0, "{text}");
    assert_eq!(
        plan.change("terraform_data.site[\"eu\"]")["previous_address"],
        "terraform_data.site"
    );
    work.apply();

    // The for_each instance becomes instance 0 of a count resource under a new name.
    let mut counted = stack();
    let regions = counted.resource_with_count("region", 1, |_| Data::new().set_input(json!("eu")));
    counted.moved("terraform_data.site[\"eu\"]", &regions.instance(0));
    work.write(&counted);
    let (plan, text) = work.plan();
    assert_eq!(plan.count("create"), 0, "{text}");
    assert_eq!(plan.count("delete"), 0, "{text}");
    assert_eq!(
        plan.change("terraform_data.region[0]")["previous_address"],
        "terraform_data.site[\"eu\"]"
    );
    work.apply();

    // And out of the instances again: back to one resource.
    let mut back = stack();
    let site = back.resource("site", Data::new().set_input(json!("eu")));
    back.moved("terraform_data.region[0]", &site);
    work.write(&back);
    let (plan, text) = work.plan();
    assert_eq!(plan.count("create"), 0, "{text}");
    assert_eq!(plan.count("delete"), 0, "{text}");
    assert_eq!(
        plan.change("terraform_data.site")["previous_address"],
        "terraform_data.region[0]"
    );
    work.apply();
    assert_eq!(work.state(), ["terraform_data.site"]);
}

#[test]
fn import_for_each_adopts_one_object_per_key() {
    let Some(mut work) = Workdir::new() else {
        return;
    };
    let mut s = stack();
    let keyed = s.resource_for_each("keyed", ForEach::set(["p", "q"]), |_| Data::new());
    s.import_for_each(
        &keyed,
        ForEach::<Tf<String>>::map([("p", "id-p"), ("q", "id-q")]),
        |each| each.value(),
    );
    work.write(&s);
    let (plan, text) = work.plan();
    let mut imported = plan.importing();
    imported.sort();
    assert_eq!(
        imported,
        [
            ("terraform_data.keyed[\"p\"]", "id-p"),
            ("terraform_data.keyed[\"q\"]", "id-q")
        ],
        "{text}"
    );
    assert!(
        text.contains("Plan: 2 to import, 0 to add, 0 to change, 0 to destroy."),
        "{text}"
    );
}

#[test]
fn a_check_reads_its_scoped_data_source_and_data_sources_repeat() {
    let Some(mut work) = Workdir::new() else {
        return;
    };
    let state_file = "terraform.language.tfstate";
    let with_version = |version: &str| {
        let mut s = stack();
        let v = s.resource("version", Data::new().set_input(json!(version)));
        s.output(
            "version",
            callflow_dsl::Output {
                value: v.output().as_string(),
                description: "the deployed version".into(),
                sensitive: false,
            },
        );
        s
    };
    work.write(&with_version("v1"));
    work.apply();

    // The check reads the state this configuration last applied, through a data source that
    // exists only inside the check; one data source per state file, read with for_each.
    let mut s = with_version("v1");
    s.check("deployed_is_v2", |check| {
        let state = check.data(
            "deployed",
            DataRemoteState::new("local").set_config(json!({ "path": state_file })),
        );
        let deployed: Tf<Value> = Tf::expr(Expression::raw(format!(
            "{}.version",
            state.outputs().to_hcl()
        )));
        check.assert(
            deployed.equals(json!("v2")),
            "the deployed version is not v2",
        );
    });
    let states = s.data_for_each("state", ForEach::set([state_file]), |each| {
        DataRemoteState::new("local").set_config(Tf::expr(Expression::raw(format!(
            "{{path = {}}}",
            each.key().to_hcl()
        ))))
    });
    s.resource(
        "seen",
        Data::new().set_input(Tf::expr(Expression::raw(format!(
            "{}.version",
            states.instance(state_file).outputs().to_hcl()
        )))),
    );
    work.write(&s);
    let (plan, text) = work.plan();
    assert!(text.contains("Check block assertion failed"), "{text}");
    assert!(text.contains("the deployed version is not v2"), "{text}");
    assert_eq!(plan.0["checks"][0]["status"], "fail");
    let seen = plan.change("terraform_data.seen");
    assert_eq!(seen["change"]["actions"], json!(["create"]));
    assert_eq!(
        seen["change"]["after"]["input"], "v1",
        "read through the repeated data source"
    );
}
