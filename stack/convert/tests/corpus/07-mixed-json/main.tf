variable "prefix" {
  type    = string
  default = "shop"
}

resource "aws_sns_topic" "orders" {
  name = "${var.prefix}-orders"
}
