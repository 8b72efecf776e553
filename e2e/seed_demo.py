"""Seeds a moto server for `make demo`: a small network and web instance, the
Terraform state describing them (in S3, as the S3 backend stores it), and then
drift behind the state's back. Usage: seed_demo.py ENDPOINT_URL"""
import json
import sys

import boto3

endpoint = sys.argv[1]
session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1")
ec2 = session.client("ec2", endpoint_url=endpoint)
s3 = session.client("s3", endpoint_url=endpoint)

vpc = ec2.create_vpc(CidrBlock="10.40.0.0/16")["Vpc"]["VpcId"]
subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.40.1.0/24", AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]
sg = ec2.create_security_group(GroupName="web", Description="web tier", VpcId=vpc)["GroupId"]
https = {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}
ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=[https])
web = ec2.run_instances(
    ImageId="ami-12c6146b", MinCount=1, MaxCount=1, InstanceType="t3.micro", SubnetId=subnet,
    SecurityGroupIds=[sg], TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "Env", "Value": "prod"}]}],
)["Instances"][0]["InstanceId"]

aws = 'provider["registry.terraform.io/hashicorp/aws"]'


def resource(type_, name, attributes):
    return {"mode": "managed", "type": type_, "name": name, "provider": aws,
            "instances": [{"schema_version": 0, "attributes": attributes}]}


rule = lambda proto, port, cidr: {"protocol": proto, "from_port": port, "to_port": port, "cidr_blocks": [cidr],
                                  "ipv6_cidr_blocks": [], "prefix_list_ids": [], "security_groups": [],
                                  "self": False, "description": ""}
state = {"version": 4, "terraform_version": "1.15.0", "serial": 3, "lineage": "demo-network", "outputs": {},
         "resources": [
             resource("aws_vpc", "main", {"id": vpc, "cidr_block": "10.40.0.0/16", "tags": {}}),
             resource("aws_subnet", "app", {"id": subnet, "vpc_id": vpc, "cidr_block": "10.40.1.0/24", "tags": {}}),
             resource("aws_security_group", "web", {"id": sg, "vpc_id": vpc, "description": "web tier",
                                                    "ingress": [rule("tcp", 443, "10.0.0.0/8")],
                                                    "egress": [rule("-1", 0, "0.0.0.0/0")], "tags": {}}),
             resource("aws_instance", "web", {"id": web, "instance_type": "t3.micro", "ami": "ami-12c6146b",
                                              "subnet_id": subnet, "vpc_security_group_ids": [sg],
                                              "tags": {"Env": "prod"}}),
         ]}
s3.create_bucket(Bucket="tf-states")
s3.put_object(Bucket="tf-states", Key="demo/network.tfstate", Body=json.dumps(state).encode())

# Drift: a console resize, SSH opened to the world, a machine nobody codified.
ec2.stop_instances(InstanceIds=[web])
ec2.modify_instance_attribute(InstanceId=web, InstanceType={"Value": "t3.large"})
ssh = {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=[ssh])
ec2.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1, InstanceType="t3.nano", SubnetId=subnet)
print(f"seeded: {vpc} {subnet} {sg} {web}, state at s3://tf-states/demo/network.tfstate")
