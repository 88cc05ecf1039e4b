variable "name" {
  type        = string
  description = "Bucket name."
  validation {
    condition     = length(var.name) >= 3 && length(var.name) <= 63
    error_message = "S3 bucket names are 3 to 63 characters."
  }
}

variable "versioning" {
  type    = bool
  default = true
}

variable "lifecycle_rules" {
  type = map(object({
    prefix = string
    days   = number
  }))
  default = {
    logs = { prefix = "logs/", days = 30 }
    tmp  = { prefix = "tmp/", days = 1 }
  }
}

variable "tags" {
  type    = map(string)
  default = {}
}
