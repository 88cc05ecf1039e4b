variable "domain" {
  type    = string
  default = "api.example.com"
}

variable "certificate_arn" {
  type    = string
  default = "arn:aws:acm:us-east-1:111122223333:certificate/abc"
}

resource "aws_api_gateway_rest_api" "api" {
  name = "mapped"
  endpoint_configuration {
    types = ["REGIONAL"]
  }
}

resource "aws_api_gateway_domain_name" "api" {
  domain_name              = var.domain
  regional_certificate_arn = var.certificate_arn
  security_policy          = "TLS_1_2"
  endpoint_configuration {
    types = ["REGIONAL"]
  }
}

resource "aws_api_gateway_base_path_mapping" "v1" {
  api_id      = aws_api_gateway_rest_api.api.id
  domain_name = aws_api_gateway_domain_name.api.domain_name
  stage_name  = "v1"
  base_path   = "v1"
}

output "target" {
  value       = aws_api_gateway_domain_name.api.regional_domain_name
  description = "Point the DNS record here."
}
