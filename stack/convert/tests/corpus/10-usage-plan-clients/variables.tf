variable "clients" {
  description = "API clients and their plans."
  type = map(object({
    plan    = string
    enabled = optional(bool, true)
  }))
  default = {
    "acme-console-000001" = { plan = "standard" }
    "acme-importer-00001" = { plan = "bulk", enabled = false }
  }
}

variable "plans" {
  type = map(object({ burst = number, rate = number, quota = number }))
  default = {
    standard = { burst = 50, rate = 25, quota = 100000 }
    bulk     = { burst = 200, rate = 100, quota = 1000000 }
  }
}
