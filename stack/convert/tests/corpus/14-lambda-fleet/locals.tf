locals {
  defaults = {
    memory  = 128
    timeout = 3
  }
  functions = {
    ingest = { memory = 512, timeout = 30, env = { QUEUE = "ingest" } }
    report = { memory = 256, timeout = 60, env = {} }
  }
  merged = { for name, f in local.functions : name => merge(local.defaults, f) }
}
