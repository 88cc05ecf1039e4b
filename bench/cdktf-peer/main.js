#!/usr/bin/env node
// The cdktf peer of `callflow synth`: declares the committed callflow stack
// (cdktf.out/stacks/callflow/cdk.tf.json) through cdktf 0.21.0 constructs and synthesizes it
// into N stacks, the way a cdktf app run by plain `node` does. See README.md.
//
// usage: node main.js [--stacks N] [--out DIR] [--generic] [--source FILE] [--schema FILE]
//   N is 1..100 (default 1); DIR defaults to bench/cdktf-peer/cdktf.out.
//   --generic  every resource and data source is a generic TerraformResource/TerraformDataSource
//              subclass returning its attributes (cdktf's lower bound); without it, the typed
//              classes of @cdktf/provider-aws (hashicorp/aws 6.25.0), what cdktf users run.
"use strict";

const fs = require("fs");
const path = require("path");
const {
  App,
  LocalBackend,
  TerraformDataSource,
  TerraformLocal,
  TerraformOutput,
  TerraformProvider,
  TerraformResource,
  TerraformStack,
  TerraformVariable,
  Token,
} = require("cdktf");

const repoRoot = path.resolve(__dirname, "..", "..");

function parseArgs(argv) {
  const args = {
    stacks: 1,
    out: path.join(__dirname, "cdktf.out"),
    generic: false,
    source: path.join(repoRoot, "cdktf.out", "stacks", "callflow", "cdk.tf.json"),
    schema: path.join(repoRoot, "stack", "providers", "aws", "schema.json"),
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`${flag} needs a value`);
      return argv[++i];
    };
    if (flag === "--stacks") args.stacks = Number(value());
    else if (flag === "--out") args.out = value();
    else if (flag === "--source") args.source = value();
    else if (flag === "--schema") args.schema = value();
    else if (flag === "--generic") args.generic = true;
    else throw new Error(`unknown argument ${JSON.stringify(flag)}`);
  }
  if (!Number.isInteger(args.stacks) || args.stacks < 1 || args.stacks > 100) {
    throw new Error(`--stacks must be 1..100, got ${JSON.stringify(args.stacks)}`);
  }
  return args;
}

/** Stack names of `callflow synth`: the source stack's own name for one stack, else
 * "<name>-00".."<name>-NN" as scripts/bench-synth.sh writes them into its 100-stack config. */
function stackNames(sourceName, count) {
  if (count === 1) return [sourceName];
  return Array.from({ length: count }, (_, i) => `${sourceName}-${String(i).padStart(2, "0")}`);
}

// ---- references: `${type.name.attr}`, `${data.type.name.attr}`, `${var.x}`, `${local.x}` ----

const SIMPLE_REFERENCE = /^(?:(data)\.)?([a-z0-9_]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_]+)$|^(var|local)\.([A-Za-z0-9_-]+)$/;

/** Top-level `${...}` spans of a string (brace matched, quotes respected), as [start, end). */
function interpolations(text) {
  const spans = [];
  let i = text.indexOf("${");
  while (i !== -1) {
    let depth = 0;
    let inQuote = false;
    let j = i + 2;
    for (; j < text.length; j++) {
      const c = text[j];
      if (inQuote) {
        if (c === "\\") j++;
        else if (c === '"') inQuote = false;
      } else if (c === '"') inQuote = true;
      else if (c === "{") depth++;
      else if (c === "}") {
        if (depth === 0) break;
        depth--;
      }
    }
    if (j >= text.length) break;
    spans.push([i, j + 1]);
    i = text.indexOf("${", j + 1);
  }
  return spans;
}

/** Addresses ("type.name", "data.type.name", "var.x", "local.x") a string refers to simply. */
function simpleReferences(text) {
  const found = [];
  for (const [start, end] of interpolations(text)) {
    const m = SIMPLE_REFERENCE.exec(text.slice(start + 2, end - 1));
    if (!m) continue;
    if (m[5]) found.push({ address: `${m[5]}.${m[6]}`, attribute: undefined });
    else found.push({ address: `${m[1] ? "data." : ""}${m[2]}.${m[3]}`, attribute: m[4] });
  }
  return found;
}

/** Walks every string of a JSON value. */
function eachString(value, visit) {
  if (typeof value === "string") visit(value);
  else if (Array.isArray(value)) value.forEach((v) => eachString(v, visit));
  else if (value && typeof value === "object") Object.values(value).forEach((v) => eachString(v, visit));
}

// ---- the stack ----

class GenericProvider extends TerraformProvider {
  constructor(scope, id, source, attributes) {
    super(scope, id, { terraformResourceType: id, terraformProviderSource: source });
    this.attributes = attributes;
  }
  synthesizeAttributes() {
    return this.attributes;
  }
}

class GenericResource extends TerraformResource {
  constructor(scope, id, type, attributes, meta) {
    super(scope, id, { terraformResourceType: type, ...meta });
    this.attributes = attributes;
  }
  synthesizeAttributes() {
    return this.attributes;
  }
}

class GenericDataSource extends TerraformDataSource {
  constructor(scope, id, type, attributes, meta) {
    super(scope, id, { terraformResourceType: type, ...meta });
    this.attributes = attributes;
  }
  synthesizeAttributes() {
    return this.attributes;
  }
}

const META_ARGUMENTS = new Set(["depends_on", "lifecycle", "//"]);
const UNSUPPORTED_META = new Set(["count", "for_each", "provider", "provisioner", "connection"]);

function camelCase(name) {
  return name.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase());
}

/** The class of a type in @cdktf/provider-aws: the export of lib/<type without "aws_", "-" for
 * "_"> (data sources: lib/data-aws-...) whose tfResourceType is the type. Its name is the
 * PascalCase type, or that plus "A" where it would clash with a config struct's name. */
function typedClass(kind, type) {
  const stem = kind === "data" ? `data_${type}` : type.replace(/^aws_/, "");
  const modulePath = `@cdktf/provider-aws/lib/${stem.replace(/_/g, "-")}`;
  const module = require(modulePath);
  const cls = Object.values(module).find((e) => typeof e === "function" && e.tfResourceType === type);
  if (!cls) throw new Error(`${modulePath} exports no class of ${type}`);
  return cls;
}

class CallflowPeerStack extends TerraformStack {
  /**
   * @param scope the App
   * @param name stack name
   * @param doc the source cdk.tf.json
   * @param options { generic: boolean, schema: provider schema (typed mode) }
   */
  constructor(scope, name, doc, options) {
    super(scope, name);
    this.doc = doc;
    this.options = options;
    this.elements = new Map(); // address → construct

    const sourceName = doc["//"]?.metadata?.stackName ?? "callflow";
    const terraform = doc.terraform ?? {};
    for (const [kind, config] of Object.entries(terraform.backend ?? {})) {
      if (kind !== "local") throw new Error(`backend ${kind} is not supported by the peer`);
      new LocalBackend(this, { path: config.path.split(sourceName).join(name) });
    }

    for (const [providerName, blocks] of Object.entries(doc.provider ?? {})) {
      const required = terraform.required_providers?.[providerName];
      for (const block of blocks) this.declareProvider(providerName, required, block);
    }
    if (terraform.required_providers) {
      // The typed provider would pin its own binding version; the document's constraint wins.
      this.addOverride("terraform.required_providers", terraform.required_providers);
    }

    for (const [varName, body] of Object.entries(doc.variable ?? {})) {
      const v = new TerraformVariable(this, `var_${varName}`, {
        type: body.type,
        default: body.default,
        description: body.description,
        sensitive: body.sensitive,
        nullable: body.nullable,
      });
      v.overrideLogicalId(varName);
      this.elements.set(`var.${varName}`, v);
    }

    // Resources and data sources in dependency order, as an app declares them: a construct
    // exists before another refers to it.
    const declarations = new Map();
    for (const kind of ["data", "resource"]) {
      for (const [type, byName] of Object.entries(doc[kind] ?? {})) {
        for (const [resName, body] of Object.entries(byName)) {
          const address = kind === "data" ? `data.${type}.${resName}` : `${type}.${resName}`;
          declarations.set(address, { kind, type, name: resName, body });
        }
      }
    }
    const localsPending = new Map(Object.entries(doc.locals ?? {}));
    const declared = new Set(this.elements.keys());
    const visiting = new Set();
    const declare = (address) => {
      if (declared.has(address)) return;
      if (visiting.has(address)) throw new Error(`reference cycle through ${address}`);
      visiting.add(address);
      const local = address.startsWith("local.") ? address.slice(6) : undefined;
      const value = local !== undefined ? localsPending.get(local) : declarations.get(address)?.body;
      if (value === undefined) throw new Error(`${address} is referred to but not declared`);
      const needs = new Set(value.depends_on ?? []);
      eachString(value, (s) => simpleReferences(s).forEach((r) => needs.add(r.address)));
      for (const need of needs) if (need !== address) declare(need);
      if (local !== undefined) {
        const l = new TerraformLocal(this, `local_${local}`, this.tokenize(value, undefined));
        l.overrideLogicalId(local);
        this.elements.set(address, l);
      } else {
        this.declareElement(address, declarations.get(address));
      }
      visiting.delete(address);
      declared.add(address);
    };
    for (const local of localsPending.keys()) declare(`local.${local}`);
    for (const address of declarations.keys()) declare(address);

    for (const [outName, body] of Object.entries(doc.output ?? {})) {
      const o = new TerraformOutput(this, `out_${outName}`, {
        value: this.tokenize(body.value, undefined),
        description: body.description,
        sensitive: body.sensitive,
        dependsOn: body.depends_on?.map((a) => this.element(a)),
      });
      o.overrideLogicalId(outName);
    }
  }

  element(address) {
    const found = this.elements.get(address);
    if (!found) throw new Error(`${address} is not declared (yet)`);
    return found;
  }

  /** The token a cdktf app holds for a reference: `bucket.arn`, `variable.stringValue`,
   * `local.asString`. */
  referenceToken(reference) {
    const target = this.element(reference.address);
    if (reference.attribute === undefined) {
      return target instanceof TerraformLocal ? target.asString : target.stringValue;
    }
    return target.getStringAttribute(reference.attribute);
  }

  /** A string with its simple references replaced by cdktf tokens; other expressions stay
   * literal (cdktf passes `${...}` through). `type` is the schema type the value lands in. */
  tokenizeString(text, type) {
    const spans = interpolations(text);
    let result = "";
    let last = 0;
    let replaced = false;
    for (const [start, end] of spans) {
      const refs = simpleReferences(text.slice(start, end));
      if (refs.length !== 1) continue;
      result += text.slice(last, start) + this.referenceToken(refs[0]);
      last = end;
      replaced = true;
    }
    if (!replaced) return text;
    result += text.slice(last);
    if (type === "number") return Token.asNumber(result);
    return result;
  }

  /** Strings anywhere in a JSON value tokenized (keys kept as they are). */
  tokenize(value, type) {
    if (typeof value === "string") return this.tokenizeString(value, type);
    if (Array.isArray(value)) {
      const element = Array.isArray(type) && type.length === 2 ? type[1] : undefined;
      return value.map((v) => this.tokenize(v, element));
    }
    if (value && typeof value === "object") {
      const element = Array.isArray(type) && type[0] === "map" ? type[1] : undefined;
      const out = {};
      for (const [k, v] of Object.entries(value)) out[k] = this.tokenize(v, element);
      return out;
    }
    return value;
  }

  /** A JSON block as the typed config of its @cdktf/provider-aws class: camelCase keys,
   * single blocks as objects, repeated blocks as arrays, map keys untouched. */
  typedConfig(body, block, where) {
    const config = {};
    for (const [key, value] of Object.entries(body)) {
      const attribute = block.attributes?.[key];
      const nested = block.block_types?.[key];
      if (attribute) {
        config[camelCase(key)] = this.tokenize(value, attribute.type);
      } else if (nested) {
        const items = (Array.isArray(value) ? value : [value]).map((item) =>
          this.typedConfig(item, nested.block, `${where}.${key}`),
        );
        const single = nested.nesting_mode === "single" || nested.max_items === 1;
        config[camelCase(key)] = single ? items[0] : items;
      } else {
        throw new Error(`${where}: ${key} is not in the provider schema`);
      }
    }
    return config;
  }

  declareProvider(providerName, required, block) {
    const attributes = { ...block };
    if (this.options.generic) {
      const p = new GenericProvider(this, providerName, required?.source ?? providerName, this.tokenize(attributes));
      if (block.alias) p.overrideLogicalId(providerName);
      return;
    }
    if (providerName !== "aws") throw new Error(`typed mode knows only the aws provider, not ${providerName}`);
    const { AwsProvider } = require("@cdktf/provider-aws/lib/provider");
    const config = this.typedConfig(attributes, this.options.schema.provider.block, `provider.${providerName}`);
    new AwsProvider(this, block.alias ? `aws_${block.alias}` : "aws", config);
  }

  declareElement(address, { kind, type, name, body }) {
    const attributes = {};
    for (const [key, value] of Object.entries(body)) {
      if (UNSUPPORTED_META.has(key)) throw new Error(`${address}: meta-argument ${key} is not supported by the peer`);
      if (!META_ARGUMENTS.has(key)) attributes[key] = value;
    }
    const meta = {
      dependsOn: body.depends_on?.map((a) => this.element(a)),
      lifecycle: body.lifecycle
        ? Object.fromEntries(Object.entries(body.lifecycle).map(([k, v]) => [camelCase(k), v]))
        : undefined,
    };
    const id = address.replace(/\./g, "_");
    let construct;
    if (this.options.generic) {
      const Generic = kind === "data" ? GenericDataSource : GenericResource;
      construct = new Generic(this, id, type, this.tokenize(attributes), meta);
    } else {
      const schemas = this.options.schema[kind === "data" ? "data_source_schemas" : "resource_schemas"];
      const schema = schemas[type];
      if (!schema) throw new Error(`${address}: ${type} is not in the provider schema`);
      const Typed = typedClass(kind, type);
      construct = new Typed(this, id, { ...this.typedConfig(attributes, schema.block, address), ...meta });
    }
    construct.overrideLogicalId(name);
    if (body["//"] !== undefined) construct.addOverride("//.comment", body["//"]);
    this.elements.set(address, construct);
  }
}

function main() {
  const args = parseArgs(process.argv.slice(2));
  const doc = JSON.parse(fs.readFileSync(args.source, "utf8"));
  let schema;
  if (!args.generic) {
    const all = JSON.parse(fs.readFileSync(args.schema, "utf8")).provider_schemas;
    schema = all["registry.terraform.io/hashicorp/aws"];
    if (!schema) throw new Error(`${args.schema} has no registry.terraform.io/hashicorp/aws schema`);
  }
  const app = new App({ outdir: args.out });
  const sourceName = doc["//"]?.metadata?.stackName ?? "callflow";
  for (const name of stackNames(sourceName, args.stacks)) {
    new CallflowPeerStack(app, name, doc, { generic: args.generic, schema });
  }
  app.synth();
}

try {
  main();
} catch (error) {
  process.stderr.write(`cdktf peer: ${error.message}\n`);
  process.exit(2);
}
