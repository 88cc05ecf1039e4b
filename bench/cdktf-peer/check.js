#!/usr/bin/env node
// Equivalence check of the cdktf peer's output against `callflow synth`'s, stack by stack.
//
// usage: node check.js CALLFLOW_OUT PEER_OUT [--bodies]
// For every stack in CALLFLOW_OUT/manifest.json, the peer's stack of the same name must declare
// the same resource and data source addresses (type.name), variables, locals and outputs.
// --bodies also compares every element's content after normalizing what cdktf writes
// differently but Terraform reads alike: `//` metadata keys are ignored and a one-element
// array of an object (a block written as a list) equals the object.
// Prints each mismatch and exits 1 when there is one; 2 on unreadable input.
"use strict";

const fs = require("fs");
const path = require("path");

function readJson(file) {
  return JSON.parse(fs.readFileSync(file, "utf8"));
}

function stacksOf(outDir) {
  const manifest = readJson(path.join(outDir, "manifest.json"));
  const stacks = new Map();
  for (const [name, entry] of Object.entries(manifest.stacks)) {
    stacks.set(name, readJson(path.join(outDir, entry.synthesizedStackPath)));
  }
  return stacks;
}

/** Element address → body, for resources, data sources, variables, locals and outputs. */
function elements(doc) {
  const found = new Map();
  for (const [type, byName] of Object.entries(doc.resource ?? {})) {
    for (const [name, body] of Object.entries(byName)) found.set(`${type}.${name}`, body);
  }
  for (const [type, byName] of Object.entries(doc.data ?? {})) {
    for (const [name, body] of Object.entries(byName)) found.set(`data.${type}.${name}`, body);
  }
  for (const [name, body] of Object.entries(doc.variable ?? {})) found.set(`var.${name}`, body);
  for (const [name, body] of Object.entries(doc.locals ?? {})) found.set(`local.${name}`, body);
  for (const [name, body] of Object.entries(doc.output ?? {})) found.set(`output.${name}`, body);
  return found;
}

function normalize(value) {
  if (Array.isArray(value)) {
    if (value.length === 1 && value[0] && typeof value[0] === "object" && !Array.isArray(value[0])) {
      return normalize(value[0]);
    }
    return value.map(normalize);
  }
  if (value && typeof value === "object") {
    const out = {};
    for (const key of Object.keys(value).sort()) {
      if (key !== "//") out[key] = normalize(value[key]);
    }
    return out;
  }
  return value;
}

/** First difference between two normalized values, as "path: a ≠ b", or undefined. */
function difference(a, b, where) {
  if (a === b) return undefined;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== "object" || Array.isArray(a) !== Array.isArray(b)) {
    return `${where}: callflow ${JSON.stringify(a)} ≠ cdktf ${JSON.stringify(b)}`;
  }
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const key of keys) {
    const d = difference(a[key], b[key], Array.isArray(a) ? `${where}[${key}]` : `${where}.${key}`);
    if (d) return d;
  }
  return undefined;
}

function main() {
  const [callflowOut, peerOut, ...flags] = process.argv.slice(2);
  if (!callflowOut || !peerOut || flags.some((f) => f !== "--bodies")) {
    process.stderr.write("usage: node check.js CALLFLOW_OUT PEER_OUT [--bodies]\n");
    process.exit(2);
  }
  const bodies = flags.includes("--bodies");
  const callflow = stacksOf(callflowOut);
  const peer = stacksOf(peerOut);
  const mismatches = [];
  for (const name of new Set([...callflow.keys(), ...peer.keys()])) {
    if (!peer.has(name)) {
      mismatches.push(`stack ${name}: only in callflow's output`);
      continue;
    }
    if (!callflow.has(name)) {
      mismatches.push(`stack ${name}: only in the cdktf peer's output`);
      continue;
    }
    const ours = elements(callflow.get(name));
    const theirs = elements(peer.get(name));
    for (const address of ours.keys()) {
      if (!theirs.has(address)) mismatches.push(`stack ${name}: ${address} only in callflow's output`);
    }
    for (const address of theirs.keys()) {
      if (!ours.has(address)) mismatches.push(`stack ${name}: ${address} only in the cdktf peer's output`);
    }
    if (!bodies) continue;
    for (const [address, body] of ours) {
      if (!theirs.has(address)) continue;
      const d = difference(normalize(body), normalize(theirs.get(address)), `${name}: ${address}`);
      if (d) mismatches.push(`stack ${d}`);
    }
    for (const block of ["terraform", "provider"]) {
      const d = difference(normalize(callflow.get(name)[block]), normalize(peer.get(name)[block]), `${name}: ${block}`);
      if (d) mismatches.push(`stack ${d}`);
    }
  }
  for (const m of mismatches.slice(0, 20)) process.stdout.write(`mismatch: ${m}\n`);
  if (mismatches.length > 20) process.stdout.write(`… and ${mismatches.length - 20} more mismatches\n`);
  if (mismatches.length > 0) process.exit(1);
  process.stdout.write(
    `cdktf peer equivalent to callflow: ${callflow.size} stack(s), same addresses, variables, locals and outputs${bodies ? ", same bodies" : ""}\n`,
  );
}

try {
  main();
} catch (error) {
  process.stderr.write(`check: ${error.message}\n`);
  process.exit(2);
}
