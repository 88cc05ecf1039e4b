data "aws_caller_identity" "current" {}

variable "admins" {
  type    = list(string)
  default = ["alice", "bob"]
}

locals {
  admin_arns = [for a in var.admins : "arn:aws:iam::${data.aws_caller_identity.current.account_id}:user/${a}"]
}

resource "aws_kms_key" "main" {
  description         = "main key"
  enable_key_rotation = true
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "Root"
        Effect    = "Allow"
        Principal = { AWS = "arn:aws:iam::${data.aws_caller_identity.current.account_id}:root" }
        Action    = "kms:*"
        Resource  = "*"
      },
      {
        Sid       = "Admins"
        Effect    = "Allow"
        Principal = { AWS = local.admin_arns }
        Action    = ["kms:Describe*", "kms:Get*"]
        Resource  = "*"
      }
    ]
  })

  lifecycle {
    prevent_destroy = true
    ignore_changes  = [description]
  }
}

resource "aws_kms_alias" "main" {
  name          = "alias/main"
  target_key_id = aws_kms_key.main.key_id
}

output "key_arn" {
  value       = aws_kms_key.main.arn
  description = "The key."
  sensitive   = true
}
