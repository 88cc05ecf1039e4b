variable "keys" {
  type    = set(string)
  default = ["orders", "payments", "audit"]
}

resource "aws_kms_key" "k" {
  for_each                = var.keys
  description             = "${each.key} data"
  enable_key_rotation     = true
  deletion_window_in_days = each.key == "audit" ? 30 : 7
}

resource "aws_kms_alias" "k" {
  for_each      = var.keys
  name          = "alias/${each.key}"
  target_key_id = aws_kms_key.k[each.key].key_id
}

output "key_arns" {
  value = { for name, key in aws_kms_key.k : name => key.arn }
}
