//! Security group rules: who may reach what. Each rule is expanded to one line per source
//! (`ingress tcp 443 from 0.0.0.0/0`); a new line is broadening, a removed one narrowing.

use std::collections::BTreeSet;

use serde_json::Value;

use super::{ChangeSign, Direction, ObjectSide, SecurityAspect, Sink, strings_of};

fn ports(rule: &serde_json::Map<String, Value>, protocol: &str) -> String {
    let number = |key: &str| rule.get(key).and_then(Value::as_i64);
    if matches!(protocol, "-1" | "all") {
        return "all traffic".to_owned();
    }
    match (number("from_port"), number("to_port")) {
        (Some(from), Some(to)) if from == to => format!("{protocol} {from}"),
        (Some(from), Some(to)) => format!("{protocol} {from}-{to}"),
        _ => protocol.to_owned(),
    }
}

/// One line per (direction, ports, source) of a rule object.
fn expand(direction: &str, rule: &serde_json::Map<String, Value>, out: &mut BTreeSet<String>) {
    let protocol = rule
        .get("protocol")
        .or_else(|| rule.get("ip_protocol"))
        .and_then(Value::as_str)
        .unwrap_or("-1")
        .to_owned();
    let what = ports(rule, &protocol);
    let word = if direction == "ingress" { "from" } else { "to" };
    let mut sources = Vec::new();
    for key in [
        "cidr_blocks",
        "ipv6_cidr_blocks",
        "security_groups",
        "prefix_list_ids",
    ] {
        sources.extend(rule.get(key).map(strings_of).unwrap_or_default());
    }
    for key in [
        "cidr_ipv4",
        "cidr_ipv6",
        "referenced_security_group_id",
        "prefix_list_id",
        "source_security_group_id",
    ] {
        if let Some(s) = rule
            .get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
        {
            sources.push(s.to_owned());
        }
    }
    if rule.get("self").and_then(Value::as_bool) == Some(true) {
        sources.push("itself".to_owned());
    }
    if sources.is_empty() {
        sources.push("(no source)".to_owned());
    }
    for source in sources {
        out.insert(format!("{direction} {what} {word} {source}"));
    }
}

fn rules(resource_type: &str, side: ObjectSide<'_>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    if !side.exists() {
        return out;
    }
    let Some(object) = side.value.as_object() else {
        return out;
    };
    match resource_type {
        "aws_security_group" => {
            for direction in ["ingress", "egress"] {
                for rule in super::policy::blocks(object.get(direction)) {
                    expand(direction, rule, &mut out);
                }
            }
        }
        "aws_security_group_rule" => {
            let direction = object
                .get("type")
                .and_then(Value::as_str)
                .unwrap_or("ingress");
            expand(direction, object, &mut out);
        }
        "aws_vpc_security_group_ingress_rule" => expand("ingress", object, &mut out),
        "aws_vpc_security_group_egress_rule" => expand("egress", object, &mut out),
        _ => {}
    }
    out
}

/// Rules opened (broadening) and closed (narrowing) between `before` and `after`.
pub(super) fn security_group(
    sink: &mut Sink<'_>,
    resource_type: &str,
    before: ObjectSide<'_>,
    after: ObjectSide<'_>,
) {
    let (old, new) = (rules(resource_type, before), rules(resource_type, after));
    for rule in new.difference(&old) {
        let open_to_world = rule.ends_with(" 0.0.0.0/0") || rule.ends_with(" ::/0");
        let detail = if open_to_world {
            format!("opens {rule} (anywhere)")
        } else {
            format!("opens {rule}")
        };
        sink.push(
            SecurityAspect::NetworkRule,
            rule.split(' ').next().unwrap_or("ingress"),
            ChangeSign::Added,
            Direction::Broadening,
            None,
            detail,
        );
    }
    for rule in old.difference(&new) {
        sink.push(
            SecurityAspect::NetworkRule,
            rule.split(' ').next().unwrap_or("ingress"),
            ChangeSign::Removed,
            Direction::Narrowing,
            None,
            format!("closes {rule}"),
        );
    }
}
