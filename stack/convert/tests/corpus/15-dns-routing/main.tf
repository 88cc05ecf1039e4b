variable "zone_id" {
  type    = string
  default = "Z0EXAMPLE0000"
}

variable "endpoints" {
  type    = list(string)
  default = ["10.0.0.10", "10.0.0.11"]
}

variable "weighted" {
  type    = bool
  default = true
}

resource "aws_route53_record" "app" {
  zone_id = var.zone_id
  name    = "app.example.com"
  type    = "A"
  ttl     = 300
  records = var.endpoints
}

resource "aws_route53_record" "blue" {
  count          = var.weighted ? 1 : 0
  zone_id        = var.zone_id
  name           = "www.example.com"
  type           = "CNAME"
  ttl            = 60
  records        = ["blue.example.com"]
  set_identifier = "blue"
  weighted_routing_policy {
    weight = 90
  }
}

resource "aws_route53_record" "txt" {
  zone_id = var.zone_id
  name    = "example.com"
  type    = "TXT"
  ttl     = 3600
  records = ["v=spf1 include:_spf.example.com ~all", "verification=${sha256("example")}"]
}
