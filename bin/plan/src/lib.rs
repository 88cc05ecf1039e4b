//! Runs the real terraform CLI on synthesized stacks and renders plans for humans and CI.
