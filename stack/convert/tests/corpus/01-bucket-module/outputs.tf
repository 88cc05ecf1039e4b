output "arn" {
  value       = aws_s3_bucket.this.arn
  description = "The bucket's ARN."
}

output "name" {
  value       = aws_s3_bucket.this.bucket
  description = "The bucket's name."
}
