provider "aws" {
  region = "us-east-1"
}

provider "aws" {
  alias  = "west"
  region = "us-west-2"
  default_tags {
    tags = {
      Region = "west"
    }
  }
}
