//! The Terraform language around the bindings, at synth: the JSON of `moved`, `import`,
//! `removed`, `count`, `for_each`, `dynamic`, `depends_on`, `lifecycle` conditions and `check`
//! blocks (snapshots), and every mistake that Terraform would only report at plan or apply
//! reported at synth instead, naming the element. The real `terraform` runs the same constructs
//! in `terraform_language.rs`.

use callflow_dsl::{
    Address, Expression, ForEach, InstanceKey, Lifecycle, Number, Resource, Stack, StackError, Tf,
};
use callflow_provider_terraform::data::Data;
use callflow_provider_terraform::remote_state::DataRemoteState;
use serde_json::{Value, json};

fn synth(stack: &Stack) -> Value {
    stack
        .synth()
        .unwrap_or_else(|e| panic!("synth failed: {e}"))
}

fn errors(stack: &Stack) -> Vec<StackError> {
    stack.synth().expect_err("synth must fail").errors
}

/// The document without the metadata and `terraform` blocks every stack has.
fn language_part(mut doc: Value) -> Value {
    if let Value::Object(m) = &mut doc {
        m.shift_remove("//");
        m.shift_remove("terraform");
    }
    doc
}

#[test]
fn moved_import_and_removed_blocks() {
    let mut stack = Stack::new("refactor");
    let events = stack.resource("events", Data::new().set_input(json!("x")));
    stack.moved("terraform_data.events_store", &events);
    let regions = stack.resource_for_each("region", ForEach::set(["eu", "us"]), |each| {
        Data::new().set_input(each.value().as_dynamic())
    });
    stack.moved("terraform_data.single_region", &regions.instance("eu"));
    let shards = stack.resource_with_count("shard", 2, |_| Data::new());
    stack.renamed("old_shards", &shards);
    let adopted = stack.resource("adopted", Data::new());
    stack.import(&adopted, "d6a6c4c6-0000-4000-8000-000000000001");
    let keyed = stack.resource_for_each("keyed", ForEach::set(["p", "q"]), |_| Data::new());
    stack.import_for_each(
        &keyed,
        ForEach::<Tf<String>>::map([("p", "id-p"), ("q", "id-q")]),
        |each| each.value(),
    );
    stack.removed("terraform_data.retired", false);
    stack.removed(
        Address::new(
            "terraform_data",
            callflow_dsl::LogicalId::parse("gone").unwrap(),
            None,
        ),
        true,
    );
    insta::assert_json_snapshot!(language_part(synth(&stack)));
}

#[test]
fn count_and_for_each_with_typed_index_key_value_and_instance_references() {
    let mut stack = Stack::new("repeat");
    let counted = stack.resource_with_count("counted", 3, |i| {
        Data::new().set_input(i.index().as_dynamic())
    });
    let by_region = stack.resource_for_each(
        "by_region",
        ForEach::<Tf<Value>>::map([("eu", json!({"zone": "a"})), ("us", json!({"zone": "b"}))]),
        |each| {
            Data::new()
                .set_input(Tf::expr(each.value_expression().attr("zone")))
                .set_triggers_replace(each.key().as_dynamic())
        },
    );
    let chained = stack.resource_for_each("chained", by_region.instances(), |each| {
        Data::new().set_input(each.value().id().as_dynamic())
    });
    let from_list = stack.resource_for_each(
        "from_list",
        ForEach::set_ref(&counted.splat(|c| c.id())),
        |each| Data::new().set_input(each.key().as_dynamic()),
    );
    let reader = stack.resource(
        "reader",
        Data::new().set_input(Tf::expr(Expression::raw(format!(
            "[{}, {}, {}, {}]",
            counted.instance(0).id().to_hcl(),
            by_region.instance("eu").output().to_hcl(),
            chained.splat(|c| c.id()).expression(),
            from_list.map(|f| f.input()).expression(),
        )))),
    );
    let length = stack.resource_with_count("sized", counted.length(), |_| Data::new());
    stack.depends_on(&reader, &[&counted, &by_region, &length]);
    let doc = language_part(synth(&stack));
    assert_eq!(
        doc["resource"]["terraform_data"]["reader"]["input"],
        json!(
            "${[terraform_data.counted[0].id, terraform_data.by_region[\"eu\"].output, values(terraform_data.chained)[*].id, {for k, v in terraform_data.from_list : k => v.input}]}"
        )
    );
    insta::assert_json_snapshot!(doc);
}

#[test]
fn data_sources_repeat_too() {
    let mut stack = Stack::new("data");
    let states = stack.data_for_each("state", ForEach::set(["a", "b"]), |each| {
        DataRemoteState::new("local").set_config(Tf::expr(Expression::raw(format!(
            "{{path = \"${{{}}}.tfstate\"}}",
            each.key().to_hcl()
        ))))
    });
    let counted = stack.data_with_count("counted", 1, |_| {
        DataRemoteState::new("local").set_config(json!({"path": "c.tfstate"}))
    });
    stack.resource(
        "reader",
        Data::new().set_input(Tf::expr(Expression::raw(format!(
            "[{}, {}]",
            states.instance("a").outputs().to_hcl(),
            counted.instance(0).outputs().to_hcl()
        )))),
    );
    let doc = language_part(synth(&stack));
    assert_eq!(
        doc["data"]["terraform_remote_state"]["state"]["for_each"],
        json!("${toset([\"a\", \"b\"])}")
    );
    assert_eq!(
        doc["data"]["terraform_remote_state"]["counted"]["count"],
        json!(1)
    );
    assert_eq!(
        doc["resource"]["terraform_data"]["reader"]["input"],
        json!(
            "${[data.terraform_remote_state.state[\"a\"].outputs, data.terraform_remote_state.counted[0].outputs]}"
        )
    );
}

#[test]
fn lifecycle_conditions_triggers_dynamic_blocks_and_checks() {
    let mut stack = Stack::new("conditions");
    let config = stack.resource("config", Data::new().set_input(json!("v1")));
    let app = stack.resource("app", Data::new().set_input(config.output()));
    stack.lifecycle(
        &app,
        Lifecycle {
            create_before_destroy: true,
            ..Lifecycle::default()
        }
        .replaced_with(&config)
        .replaced_on_change(&config.input())
        .with_precondition(
            config.output().not_equals(json!("")),
            "config must not be empty",
        ),
    );
    stack.postcondition(
        &app,
        |this| this.output().equals(config.output()),
        "app did not take the config",
    );
    let count: Tf<Number> = Tf::expr(Expression::raw("length(terraform_data.config.output)"));
    stack.precondition(
        &app,
        count
            .greater_than(0)
            .and(&Tf::from(true))
            .negated()
            .negated(),
        "config has no entries",
    );
    stack.dynamic(
        &app,
        "setting",
        ForEach::<Tf<Value>>::map([("a", json!(1)), ("b", json!(2))]),
        |setting| json!({ "name": setting.key(), "value": setting.value() }),
    );
    stack.check("config_state", |check| {
        let state = check.data(
            "config_state",
            DataRemoteState::new("local").set_config(json!({"path": "config.tfstate"})),
        );
        check.assert(
            state.outputs().not_equals(json!({})),
            "the config stack has no outputs",
        );
        check.assert(
            config.output().equals(json!("v1")),
            Tf::template(["config is ".into(), config.output().as_string()]),
        );
    });
    insta::assert_json_snapshot!(language_part(synth(&stack)));
}

#[test]
fn stacks_without_the_new_constructs_render_as_before() {
    let mut stack = Stack::new("plain");
    let a = stack.resource("a", Data::new().set_input(json!("x")));
    let b = stack.resource("b", Data::new().set_input(a.output()));
    stack.depends_on(&b, &[&a]);
    let doc = language_part(synth(&stack));
    assert_eq!(
        doc,
        json!({"resource": {"terraform_data": {
            "a": {"input": "x"},
            "b": {"depends_on": ["terraform_data.a"], "input": "${terraform_data.a.output}"},
        }}})
    );
}

// --- synth errors: each names the element -------------------------------------------------

#[test]
fn count_and_for_each_on_one_resource() {
    let mut stack = Stack::new("e");
    let c = stack.resource_with_count("both", 2, |_| Data::new());
    stack.add_override(&c, "for_each", json!("${toset([\"a\"])}"));
    assert!(
        errors(&stack).contains(&StackError::CountAndForEach {
            address: "terraform_data.both".into()
        }),
        "{:?}",
        errors(&stack)
    );
}

#[test]
fn moved_to_a_target_not_declared_in_this_stack() {
    let mut other = Stack::new("other");
    let elsewhere = other.resource("elsewhere", Data::new());
    let mut stack = Stack::new("e");
    stack.moved("terraform_data.old", &elsewhere);
    assert_eq!(
        errors(&stack),
        [StackError::UndeclaredTarget {
            block: "moved { from = terraform_data.old, to = terraform_data.elsewhere }".into(),
            address: "terraform_data.elsewhere".into(),
        }]
    );
}

#[test]
fn moved_from_an_address_that_is_still_declared() {
    let mut stack = Stack::new("e");
    stack.resource("old", Data::new());
    let new = stack.resource("new", Data::new());
    stack.moved("terraform_data.old", &new);
    let errs = errors(&stack);
    assert!(
        matches!(&errs[..], [StackError::InvalidMove { block, reason }]
            if block == "moved { from = terraform_data.old, to = terraform_data.new }"
            && reason.contains("`terraform_data.old` is still declared")),
        "{errs:?}"
    );
    let mut keyed = Stack::new("keyed");
    let each = keyed.resource_for_each("k", ForEach::set(["a", "b"]), |_| Data::new());
    keyed.moved("terraform_data.k[\"a\"]", &each.instance("b"));
    assert!(
        matches!(&errors(&keyed)[..], [StackError::InvalidMove { reason, .. }]
            if reason.contains("terraform_data.k[\"a\"]")),
        "{:?}",
        errors(&keyed)
    );
}

#[test]
fn moved_from_an_address_that_does_not_parse() {
    let mut stack = Stack::new("e");
    let new = stack.resource("new", Data::new());
    stack.moved("terraform_data", &new);
    stack.moved("terraform_data.x[y]", &new);
    let errs = errors(&stack);
    assert_eq!(errs.len(), 2, "{errs:?}");
    assert!(
        errs.iter()
            .all(|e| matches!(e, StackError::InvalidAddress { .. }))
    );
    assert_eq!(
        errs[0].to_string(),
        "invalid resource address `terraform_data`: expected `type.name`"
    );
}

/// A resource type whose provider implements no import.
#[derive(serde::Serialize)]
struct Unimportable {}

impl Resource for Unimportable {
    const TYPE: &'static str = "demo_unimportable";
    type Refs = Tf<String>;
    const IMPORTABLE: bool = false;
}

#[test]
fn import_of_a_type_that_cannot_be_imported() {
    let mut stack = Stack::new("e");
    let u = stack.resource("u", Unimportable {});
    stack.import(&u, "id-1");
    assert_eq!(
        errors(&stack),
        [StackError::NotImportable {
            address: "demo_unimportable.u".into(),
            kind: "demo_unimportable".into(),
        }]
    );
    assert_eq!(
        errors(&stack)[0].to_string(),
        "import into `demo_unimportable.u`: resource type `demo_unimportable` cannot be imported"
    );
}

#[test]
fn import_into_a_counted_resource_without_an_instance() {
    let mut stack = Stack::new("e");
    let c = stack.resource_with_count("c", 2, |_| Data::new());
    stack.import(&c, "id-1");
    stack.import(&c.instance(1), "id-2");
    let errs = errors(&stack);
    assert!(
        matches!(&errs[..], [StackError::WrongInstanceKey { reference, .. }] if reference == "terraform_data.c"),
        "{errs:?}"
    );
}

#[test]
fn reference_into_an_instance_of_a_resource_without_count_or_for_each() {
    let mut stack = Stack::new("e");
    stack.resource("single", Data::new());
    stack.resource(
        "reader",
        Data::new().set_input(Tf::expr(Expression::raw("terraform_data.single[0].output"))),
    );
    assert_eq!(
        errors(&stack),
        [StackError::WrongInstanceKey {
            reference: "terraform_data.single".into(),
            at: "resource.terraform_data.reader.input".into(),
            reason: "it has neither count nor for_each, so it has no instances".into(),
        }]
    );
    // The splat of a single resource is a list of one: valid.
    let mut ok = Stack::new("ok");
    ok.resource("single", Data::new());
    ok.resource(
        "reader",
        Data::new().set_input(Tf::expr(Expression::raw("terraform_data.single[*].output"))),
    );
    synth(&ok);
}

#[test]
fn instance_key_of_the_wrong_kind() {
    let mut stack = Stack::new("e");
    stack.resource_with_count("counted", 2, |_| Data::new());
    stack.resource_for_each("keyed", ForEach::set(["a"]), |_| Data::new());
    stack.resource(
        "reader",
        Data::new().set_input(Tf::expr(Expression::raw(
            "[terraform_data.counted[\"a\"].id, terraform_data.keyed[0].id]",
        ))),
    );
    let errs = errors(&stack);
    assert_eq!(errs.len(), 2, "{errs:?}");
    assert!(errs[0].to_string().contains(
        "`terraform_data.counted` at `resource.terraform_data.reader.input`: it has count"
    ));
    assert!(errs[1].to_string().contains(
        "`terraform_data.keyed` at `resource.terraform_data.reader.input`: it has for_each"
    ));
    // A moved into an instance: the key kind is checked too.
    let mut moved = Stack::new("moved");
    let counted = moved.resource_with_count("counted", 2, |_| Data::new());
    let to: Address = "terraform_data.counted[\"a\"]".parse().unwrap();
    assert_eq!(to.key(), Some(&InstanceKey::Key("a".into())));
    moved.moved("terraform_data.gone", &counted.instance(0));
    synth(&moved);
}

#[test]
fn attribute_of_a_repeated_resource_without_an_instance() {
    let mut stack = Stack::new("e");
    stack.resource_for_each("keyed", ForEach::set(["a"]), |_| Data::new());
    stack.resource(
        "reader",
        Data::new().set_input(Tf::expr(Expression::raw("terraform_data.keyed.output"))),
    );
    assert_eq!(
        errors(&stack)[0].to_string(),
        "`terraform_data.keyed.output` at `resource.terraform_data.reader.input`: \
         `terraform_data.keyed` has for_each, so its attributes are read on one instance \
         (`.instance(..)`) or all of them (`.splat(..)`)"
    );
}

#[test]
fn removed_while_still_declared_or_with_an_instance_key() {
    let mut stack = Stack::new("e");
    stack.resource("kept", Data::new());
    stack.removed("terraform_data.kept", false);
    stack.removed("terraform_data.other[0]", false);
    let errs = errors(&stack);
    assert_eq!(
        errs[0],
        StackError::RemovedStillDeclared {
            address: "terraform_data.kept".into()
        }
    );
    assert!(
        matches!(&errs[1], StackError::InvalidAddress { address, .. } if address == "terraform_data.other[0]")
    );
}

#[test]
fn checks_need_an_assertion_and_keep_their_data_sources_to_themselves() {
    let mut stack = Stack::new("e");
    stack.check("empty", |_| {});
    let mut leaked = None;
    stack.check("scoped", |check| {
        let state = check.data("s", DataRemoteState::new("local"));
        check.assert(state.outputs().not_equals(json!({})), "no outputs");
        leaked = Some(state.outputs());
    });
    stack.resource(
        "reader",
        Data::new().set_input(leaked.expect("set in the closure")),
    );
    let errs = errors(&stack);
    assert_eq!(
        errs,
        [
            StackError::Invalid {
                construct: "check.empty".into(),
                message: "a check block needs at least one assertion".into(),
            },
            StackError::UnknownReference {
                reference: "data.terraform_remote_state.s.outputs".into(),
                at: "resource.terraform_data.reader.input".into(),
            },
        ]
    );
}

#[test]
fn replace_triggered_by_names_a_declared_resource() {
    let mut stack = Stack::new("e");
    let a = stack.resource("a", Data::new());
    stack.lifecycle(
        &a,
        Lifecycle::default().replaced_on_change(&Tf::<String>::from("literal")),
    );
    assert!(matches!(
        &errors(&stack)[..],
        [StackError::UnknownReference { reference, .. }] if reference == "\"literal\""
    ));
}

#[test]
fn a_negative_count_is_refused() {
    let mut stack = Stack::new("e");
    stack.resource_with_count("c", -1, |_| Data::new());
    assert_eq!(
        errors(&stack),
        [StackError::Invalid {
            construct: "terraform_data.c".into(),
            message: "count is -1: it must be zero or more".into(),
        }]
    );
}
