"""The replay corpus: every EC2-family state the real AWS provider wrote (the driftctl
fixtures) and the synthetic ones, replayed into moto and scanned with driftmgr.

For each state: replay it (see replay.py), run `driftmgr scan` and require it in sync
(zero Modified, Missing and Unmanaged, exit code 0). Then, once per perturbation,
replay it afresh, change one thing in moto behind the state's back, and require
exactly the drift item(s) written below: kind, type, id, path, expected and actual
value, severity. A perturbation's scan lists only the types of its state, context and
expected items (the in-sync scan, and every perturbation that must report nothing,
list all types): a full listing per check would double the corpus's time. The expectations are written by hand from the AWS API's behaviour,
not computed by driftmgr's code.

Usage: replay_corpus.py DRIFTMGR_BINARY MOTO_URL FIXTURES_DIR [[!]PATH_PART]
Prints one line per check; exits 1 when any failed.
"""
import base64
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import urllib.request

import boto3

from replay import LAMBDA_TRUST, Replay, lambda_package, managed, region_of

ANY = object()  # a value the cloud generates (a new group's id)


def reset(moto):
    urllib.request.urlopen(urllib.request.Request(f"{moto}/moto-api/reset", method="POST")).read()


def listed_types():
    """The type discovery lists each AWS type as: itself, the parent it is folded into,
    or the type it manages; from docs/coverage.md, which a unit test keeps equal to the
    declarations."""
    page = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs", "coverage.md")
    listed = {}
    with open(page) as f:
        for row in f:
            cells = [c.strip() for c in row.split("|")]
            if len(cells) < 3 or not cells[1].startswith("`aws_"):
                continue
            name, listing = cells[1].strip("`"), cells[2]
            other = listing.split("`")[1] if listing.startswith(("folded into `", "the `")) else name
            listed[name] = other
    return listed


LISTED = listed_types()


def scope(state, context, expected):
    """The types a perturbation's scan lists: those of the state, its context and the
    expected items. The in-sync scan, and a perturbation that must report nothing
    (a derived resource never unmanaged), list every type."""
    if not expected:
        return None
    types = {t for t, _, _ in managed(state)} | {r["type"] for r in context["resources"]} | {e[1] for e in expected}
    if any(t in Replay.ORDER and t not in LISTED for t in types):
        return None  # a type the page does not know yet (docs not regenerated): list all
    return sorted({LISTED[t] for t in types if t in LISTED})


def scan(driftmgr, moto, region, states, types=None):
    args = [driftmgr, "scan", "--region", region, "--endpoint", moto, "-o", "json"]
    for state in states:
        args += ["--state", state]
    if types:
        args += ["--resource-type", ",".join(types)]
    env = dict(os.environ, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_EC2_METADATA_DISABLED="true")
    done = subprocess.run(args, capture_output=True, text=True, env=env, timeout=120)
    try:
        report = json.loads(done.stdout)
    except json.JSONDecodeError:
        report = None
    return done.returncode, report, done.stderr


# -- IAM documents, as a console user writes them, and their canonical forms ------
TRUST_ANYONE = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]}'
TRUST_ANYONE_CANONICAL = '{"Statement":[{"Action":["sts:AssumeRole"],"Effect":"Allow","Principal":{"AWS":["*"]}}],"Version":"2012-10-17"}'
TRUST_EC2_CANONICAL = '{"Statement":[{"Action":["sts:AssumeRole"],"Effect":"Allow","Principal":{"Service":["ec2.amazonaws.com"]}}],"Version":"2012-10-17"}'
# The same trust as the state's, laid out differently: lists, key order, no empty Sid.
TRUST_EC2_REFORMATTED = '{"Statement": {"Principal": {"Service": ["ec2.amazonaws.com"]}, "Action": ["sts:AssumeRole"], "Effect": "Allow"}, "Version": "2012-10-17"}'
ALLOW_ALL = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}'
ALLOW_ALL_CANONICAL = '{"Statement":[{"Action":["*"],"Effect":"Allow","Resource":["*"]}],"Version":"2012-10-17"}'
EC2_ADMIN_CANONICAL = '{"Statement":[{"Action":["ec2:*"],"Effect":"Allow","Resource":["*"],"Sid":"EC2Admin"}],"Version":"2012-10-17"}'
ACCOUNT_CANONICAL = '{"Statement":[{"Action":["account:*"],"Effect":"Allow","Resource":["*"],"Sid":"VisualEditor0"}],"Version":"2012-10-17"}'
ACCOUNT_AND_PASS_ROLE = '{"Version":"2012-10-17","Statement":[{"Sid":"VisualEditor0","Effect":"Allow","Action":["iam:PassRole","account:*"],"Resource":"*"}]}'
ACCOUNT_AND_PASS_ROLE_CANONICAL = '{"Statement":[{"Action":["account:*","iam:PassRole"],"Effect":"Allow","Resource":["*"],"Sid":"VisualEditor0"}],"Version":"2012-10-17"}'
EC2_DESCRIBE_CANONICAL = '{"Statement":[{"Action":["ec2:Describe*"],"Effect":"Allow","Resource":["*"]}],"Version":"2012-10-17"}'
EC2_ALL = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:*","Resource":"*"}]}'
EC2_ALL_CANONICAL = '{"Statement":[{"Action":["ec2:*"],"Effect":"Allow","Resource":["*"]}],"Version":"2012-10-17"}'
READ_ONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess"
# Written out by hand from the state's policy: actions in order, "*" as {"AWS": ["*"]}.
ECR_POLICY_CANONICAL = '{"Statement":[{"Action":["ecr:BatchCheckLayerAvailability","ecr:BatchDeleteImage","ecr:BatchGetImage","ecr:CompleteLayerUpload","ecr:DeleteRepository","ecr:DeleteRepositoryPolicy","ecr:DescribeRepositories","ecr:GetDownloadUrlForLayer","ecr:GetRepositoryPolicy","ecr:InitiateLayerUpload","ecr:ListImages","ecr:PutImage","ecr:SetRepositoryPolicy","ecr:UploadLayerPart"],"Effect":"Allow","Principal":{"AWS":["*"]},"Sid":"new policy"}],"Version":"2008-10-17"}'
ECR_PULL_ONLY = '{"Version":"2008-10-17","Statement":[{"Sid":"pull","Effect":"Allow","Principal":"*","Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"]}]}'
ECR_PULL_ONLY_CANONICAL = '{"Statement":[{"Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"],"Effect":"Allow","Principal":{"AWS":["*"]},"Sid":"pull"}],"Version":"2008-10-17"}'
# A bucket policy: "*" as a principal is everyone, as {"AWS": ["*"]}.
PUBLIC_READ_CANONICAL = '{"Statement":[{"Action":["s3:GetObject"],"Effect":"Allow","Principal":{"AWS":["*"]},"Resource":["arn:aws:s3:::bucket-martin-test-drift/*"],"Sid":"PublicReadGetObject"}],"Version":"2012-10-17"}'
PUBLIC_ALL = '{"Version":"2012-10-17","Statement":[{"Sid":"PublicReadGetObject","Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::BUCKET/*"}]}'
PUBLIC_ALL_CANONICAL = PUBLIC_READ_CANONICAL.replace("s3:GetObject", "s3:*")
LOGS_PUBLIC = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::app-logs/*"}]}'
LOGS_PUBLIC_CANONICAL = '{"Statement":[{"Action":["s3:GetObject"],"Effect":"Allow","Principal":{"AWS":["*"]},"Resource":["arn:aws:s3:::app-logs/*"]}],"Version":"2012-10-17"}'
APP_DATA_CANONICAL = '{"Statement":[{"Action":["s3:GetObject","s3:ListBucket"],"Effect":"Allow","Resource":["arn:aws:s3:::app-data","arn:aws:s3:::app-data/*"]}],"Version":"2012-10-17"}'


def add_user(r, user, group):
    r.iam.create_user(UserName=user)
    r.iam.add_user_to_group(GroupName=group, UserName=user)


DOMAIN_CERT = "arn:aws:acm:us-east-2:047081014315:certificate/c49d9c11-1308-4594-bd78-7853466ae7bc"


def redomain(r, domain, policy):
    r.apigw2.delete_domain_name(DomainName=domain)
    r.apigw2.create_domain_name(DomainName=domain, DomainNameConfigurations=[
        {"CertificateArn": DOMAIN_CERT, "EndpointType": "REGIONAL", "SecurityPolicy": policy}])


def remap(r, mapping):
    """The mapping pointed at another API (made in the console)."""
    other = r.apigw2.create_api(Name="console", ProtocolType="HTTP")["ApiId"]
    r.apigw2.delete_api_mapping(ApiMappingId=mapping, DomainName="driftctl.example.com")
    r.apigw2.create_api_mapping(ApiId=other, DomainName="driftctl.example.com", Stage="example-stage", ApiMappingKey="")


def restage(r, **settings):
    r.apigw2.delete_stage(ApiId=r.ids["hn5fxpwfae"], StageName="example-stage")
    r.apigw2.create_stage(ApiId=r.ids["hn5fxpwfae"], StageName="example-stage", **settings)


def delete_role(r, role):
    for policy in r.iam.list_role_policies(RoleName=role)["PolicyNames"]:
        r.iam.delete_role_policy(RoleName=role, PolicyName=policy)
    r.iam.delete_role(RoleName=role)


# -- perturbations: (name, action(replay, new id), [expected items]) ---------------
# An expected item: (kind, type, recorded id, [(path, expected, actual)], severity).
# Ids in expectations are recorded ids; the check maps them to moto's.


def stop_resize(r, i):
    r.ec2.stop_instances(InstanceIds=[i])
    r.ec2.modify_instance_attribute(InstanceId=i, InstanceType={"Value": "t3.large"})
    r.ec2.start_instances(InstanceIds=[i])


def retag(key, value):
    return lambda r, i: r.ec2.create_tags(Resources=[i], Tags=[{"Key": key, "Value": value}])


def other_group(r, i):
    vpc = r.ec2.describe_instances(InstanceIds=[i])["Reservations"][0]["Instances"][0]["VpcId"]
    group = r.ec2.create_security_group(GroupName="console-made", Description="x", VpcId=vpc)["GroupId"]
    r.ec2.modify_instance_attribute(InstanceId=i, Groups=[group])
    r.extra_groups = [group]


def attach_profile(r, i):
    session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=r.region)
    iam = session.client("iam", endpoint_url=r.ec2.meta.endpoint_url)
    iam.create_instance_profile(InstanceProfileName="console-profile")
    r.ec2.associate_iam_instance_profile(IamInstanceProfile={"Name": "console-profile"}, InstanceId=i)


def open_ssh(r, i):
    r.ec2.authorize_security_group_ingress(
        GroupId=i, IpPermissions=[{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]
    )


def acl_entry(number, action, egress=False):
    def apply(r, acl):
        r.ec2.create_network_acl_entry(
            NetworkAclId=acl, RuleNumber=number, Protocol="6", RuleAction=action, Egress=egress,
            CidrBlock="0.0.0.0/0", PortRange={"From": 22, "To": 22},
        )
    return apply


def route_to_igw(r, table):
    vpc = r.ec2.describe_route_tables(RouteTableIds=[table])["RouteTables"][0]["VpcId"]
    gateways = r.ec2.describe_internet_gateways(Filters=[{"Name": "attachment.vpc-id", "Values": [vpc]}])
    gateways = gateways["InternetGateways"]
    gateway = gateways[0]["InternetGatewayId"] if gateways else None
    if gateway is None:
        gateway = r.ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
        r.ec2.attach_internet_gateway(InternetGatewayId=gateway, VpcId=vpc)
        r.unexpected_ok = [("aws_internet_gateway", gateway)]
    r.ec2.create_route(RouteTableId=table, DestinationCidrBlock="8.8.8.8/32", GatewayId=gateway)
    r.console_gateway = gateway


def delete_route(cidr):
    return lambda r, table: r.ec2.delete_route(RouteTableId=table, DestinationCidrBlock=cidr)


def revoke(direction, permission):
    def apply(r, group):
        call = r.ec2.revoke_security_group_ingress if direction == "ingress" else r.ec2.revoke_security_group_egress
        call(GroupId=group, IpPermissions=[permission])
    return apply


def delete_acl_entry(number, egress):
    return lambda r, acl: r.ec2.delete_network_acl_entry(NetworkAclId=acl, RuleNumber=number, Egress=egress)


def disassociate_route_table(r, association):
    r.ec2.disassociate_route_table(AssociationId=association)


def disassociate_address(r, association):
    r.ec2.disassociate_address(AssociationId=association)


KMS_ROOT_CANONICAL = '{"Id":"key-default-1","Statement":[{"Action":["kms:*"],"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::047081014315:root"]},"Resource":["*"],"Sid":"Enable IAM User Permissions"}],"Version":"2012-10-17"}'
KMS_ANYONE = '{"Version":"2012-10-17","Id":"key-default-1","Statement":[{"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*"}]}'
KMS_ANYONE_CANONICAL = '{"Id":"key-default-1","Statement":[{"Action":["kms:*"],"Effect":"Allow","Principal":{"AWS":["*"]},"Resource":["*"],"Sid":"Enable IAM User Permissions"}],"Version":"2012-10-17"}'


def reconfigured_cluster(r, name, **vpc):
    """UpdateClusterConfig with the whole network block: moto replaces the block with
    what the call names (AWS merges), so the call repeats the rest as it was."""
    config = r.eks.describe_cluster(name=name)["cluster"]["resourcesVpcConfig"]
    keep = ("subnetIds", "securityGroupIds", "endpointPublicAccess", "endpointPrivateAccess", "publicAccessCidrs")
    r.eks.update_cluster_config(name=name, resourcesVpcConfig={**{k: v for k, v in config.items() if k in keep}, **vpc})


def new_revision(r, _):
    definition = r.ecs.describe_task_definition(taskDefinition="web")["taskDefinition"]
    containers = [dict(c, image="nginx:latest") for c in definition["containerDefinitions"]]
    made = r.ecs.register_task_definition(family="web", containerDefinitions=containers, cpu=definition["cpu"],
                                          memory=definition["memory"], networkMode=definition["networkMode"],
                                          requiresCompatibilities=definition["requiresCompatibilities"],
                                          taskRoleArn=definition["taskRoleArn"], executionRoleArn=definition["executionRoleArn"])
    r.ecs.update_service(cluster="apps", service="web", taskDefinition=made["taskDefinition"]["taskDefinitionArn"])


def console_efs_group(r):
    vpc = r.ec2.describe_subnets(SubnetIds=[r.ids["subnet-0a11c0ffee00000ef"]])["Subnets"][0]["VpcId"]
    return r.ec2.create_security_group(GroupName="console-efs", Description="x", VpcId=vpc)["GroupId"]


def console_subnet(r):
    vpc = r.ec2.describe_subnets(SubnetIds=[r.ids["subnet-0a11c0ffee00000ef"]])["Subnets"][0]["VpcId"]
    return r.ec2.create_subnet(VpcId=vpc, CidrBlock=f"{vpc_prefix(r, vpc)}.200.0/24", AvailabilityZone="eu-west-1b")["Subnet"]["SubnetId"]


def vpc_prefix(r, vpc):
    return ".".join(r.ec2.describe_vpcs(VpcIds=[vpc])["Vpcs"][0]["CidrBlock"].split(".")[:2])


def console_key(r):
    return r.kms.create_key(Description="console")["KeyMetadata"]["KeyId"]


def console_route_table(r):
    return r.ec2.create_route_table(VpcId=r.ids["vpc-0c1b0c0ffee000001"])["RouteTable"]["RouteTableId"]


def modify_subnet_group(r, name, description, subnets):
    """ModifyDBSubnetGroup, as its end state: moto's modify drops the group from every
    listing (AWS keeps it, changed), so the group is made again as it would end up."""
    arn = r.rds.describe_db_subnet_groups(DBSubnetGroupName=name)["DBSubnetGroups"][0]["DBSubnetGroupArn"]
    tags = r.rds.list_tags_for_resource(ResourceName=arn)["TagList"]
    r.rds.delete_db_subnet_group(DBSubnetGroupName=name)
    r.rds.create_db_subnet_group(DBSubnetGroupName=name, DBSubnetGroupDescription=description, SubnetIds=subnets, Tags=tags)


def delete_protected_instance(r, db):
    r.rds.modify_db_instance(DBInstanceIdentifier=db, DeletionProtection=False, ApplyImmediately=True)
    r.rds.delete_db_instance(DBInstanceIdentifier=db, SkipFinalSnapshot=True)


def remade_method(r, **settings):
    """UpdateMethod, as its end state: moto answers UpdateMethod with a 500, so the
    method is deleted and put again with the console's settings."""
    api, resource = r.ids["vryjzimtj1"], r.ids["hl7ksq"]
    r.apigw.delete_method(restApiId=api, resourceId=resource, httpMethod="GET")
    r.apigw.put_method(restApiId=api, resourceId=resource, httpMethod="GET", **settings)


def add_console_method(r, api):
    root = next(x["id"] for x in r.apigw.get_resources(restApiId=api)["items"] if x["path"] == "/")
    resource = r.apigw.create_resource(restApiId=api, parentId=root, pathPart="admin")["id"]
    r.apigw.put_method(restApiId=api, resourceId=resource, httpMethod="POST", authorizationType="NONE")


def console_group(r):
    vpc = r.ec2.describe_security_groups(GroupIds=[r.ids["sg-06fecfaa711e65b6c"]])["SecurityGroups"][0]["VpcId"]
    return r.ec2.create_security_group(GroupName="console-lb", Description="x", VpcId=vpc)["GroupId"]


def register_console_target(r, _):
    subnet = r.ids["subnet-00499e85b962e382f"]
    instance = r.ec2.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1, SubnetId=subnet)["Instances"][0]["InstanceId"]
    r.unexpected_ok = [("console instance", instance)]
    r.elb.register_targets(TargetGroupArn=r.ids["arn:aws:elasticloadbalancing:us-east-1:533948124879:targetgroup/tf-example-lb-tg/9e43d546683d8b35"],
                           Targets=[{"Id": instance}])


FIXTURES = {
    "aws_ec2_instance": ("i-0d3650a23f4e45dc0", [
        ("resize", stop_resize, [("Modified", "aws_instance", None, [("instance_type", "t3.nano", "t3.large")], "Medium")]),
        ("tag", retag("Owner", "console"), [("Modified", "aws_instance", None, [("tags.Owner", None, "console")], "Low")]),
        # `monitoring` is not perturbed: moto does not implement MonitorInstances
        # (NotImplementedError). AWS: MonitorInstances turns on detailed monitoring and
        # DescribeInstances then reports Monitoring.State "enabled". The comparison of
        # the attribute is covered by the engine's unit tests.
        ("source_dest_check", lambda r, i: r.ec2.modify_instance_attribute(InstanceId=i, SourceDestCheck={"Value": False}),
         [("Modified", "aws_instance", None, [("source_dest_check", True, False)], "Medium")]),
        ("ebs optimized", lambda r, i: r.ec2.modify_instance_attribute(InstanceId=i, EbsOptimized={"Value": True}),
         [("Modified", "aws_instance", None, [("ebs_optimized", False, True)], "Medium")]),
        ("instance profile", attach_profile,
         [("Modified", "aws_instance", None, [("iam_instance_profile", None, "console-profile")], "High"),
          # IAM is scanned too: the profile made in the console is nobody's in state.
          ("Unmanaged", "aws_iam_instance_profile", "console-profile", [], "Medium")]),
        ("security groups", other_group,
         [("Modified", "aws_instance", None, [("vpc_security_group_ids", ["sg-9e0204ff"], [ANY])], "High"),
          ("Unmanaged", "aws_security_group", ANY, [], "High")]),
    ]),
    "aws_ec2_ebs_volume": ("vol-01ddc91d3d9d1318b", [
        ("resize", lambda r, v: r.ec2.modify_volume(VolumeId=v, Size=16),
         [("Modified", "aws_ebs_volume", None, [("size", 8, 16)], "Medium")]),
        ("retype", lambda r, v: r.ec2.modify_volume(VolumeId=v, VolumeType="io1", Iops=500),
         [("Modified", "aws_ebs_volume", None, [("type", "gp2", "io1")], "Medium")]),
        ("tag", retag("Name", "renamed"),
         [("Modified", "aws_ebs_volume", None, [("tags.Name", "HelloWorld", "renamed")], "Low")]),
    ]),
    "aws_ec2_eip": ("eipalloc-00d8dc77a6d6bd923", [
        ("tag", retag("Team", "net"), [("Modified", "aws_eip", None, [("tags.Team", None, "net")], "Low")]),
    ]),
    "aws_ec2_eip_association": ("eipassoc-05d9c19732254e578", [
        ("disassociate", disassociate_address, [("Missing", "aws_eip_association", None, [], "High")]),
    ]),
    "aws_ec2_key_pair": ("test", [
        # Key pairs are tagged by their key-... id, not by name.
        ("tag", lambda r, _: retag("test", "changed")(r, r.ids["key-05080f65a4735790b"]),
         [("Modified", "aws_key_pair", None, [("tags.test", "lol2", "changed")], "Low")]),
    ]),
    "aws_internet_gateway": ("igw-0184eb41aadc62d1c", [
        ("detach", lambda r, g: r.ec2.detach_internet_gateway(
            InternetGatewayId=g, VpcId=r.ids["vpc-0f3ac2b7909b6bedd"]),
         [("Modified", "aws_internet_gateway", None, [("vpc_id", "vpc-0f3ac2b7909b6bedd", None)], "Medium")]),
        ("tag", retag("Name", "other"), [("Modified", "aws_internet_gateway", None, [("tags.Name", "main", "other")], "Low")]),
    ]),
    "aws_nat_gateway": ("nat-0a5408508b19ef490", [
        ("tag", retag("Name", "nat2"), [("Modified", "aws_nat_gateway", None, [("tags.Name", "nat1", "nat2")], "Low")]),
    ]),
    "aws_network_acl": ("acl-069e079b416dd581e", [
        ("open ssh", acl_entry(200, "allow"),
         [("Modified", "aws_network_acl", None, [("ingress", None, "200 allow tcp 0.0.0.0/0 22-22")], "Critical")]),
        ("deny ssh", acl_entry(210, "deny"),
         [("Modified", "aws_network_acl", None, [("ingress", None, "210 deny tcp 0.0.0.0/0 22-22")], "High")]),
        ("remove egress", delete_acl_entry(100, True),
         [("Modified", "aws_network_acl", None, [("egress", "100 allow udp 172.31.0.0/16 80-80", None)], "High")]),
        ("tag", retag("Name", "x"), [("Modified", "aws_network_acl", None, [("tags.Name", "test", "x")], "Low")]),
    ]),
    "aws_network_acl_rule": ("acl-01b7bc85a61d92e70", [
        ("rule deleted", delete_acl_entry(100, False), [("Missing", "aws_network_acl_rule", "nacl-2151792455", [], "High")]),
        ("console rule", acl_entry(300, "allow"),
         [("Modified", "aws_network_acl", None, [("ingress", None, "300 allow tcp 0.0.0.0/0 22-22")], "Critical")]),
    ]),
    "aws_route": ("rtb-0232602f0f07748fc", [
        ("route deleted", delete_route("1.1.1.1/32"), [("Missing", "aws_route", "r-rtb-0232602f0f07748fc243279527", [], "High")]),
        ("console route", route_to_igw,
         [("Modified", "aws_route_table", None, [("route", None, "8.8.8.8/32 -> igw-0125fbf19e83d008b")], "High")]),
    ]),
    "aws_route_assoc": ("rtbassoc-0809598f92dbec03b", [
        ("disassociated", disassociate_route_table,
         [("Missing", "aws_route_table_association", None, [], "High")]),
    ]),
    "aws_route_table": ("rtb-0a946227959883445", [
        ("console route", route_to_igw, [("Modified", "aws_route_table", None, [("route", None, "8.8.8.8/32 -> CONSOLE_GW")], "High")]),
        ("tag", retag("Name", "ss"), [("Modified", "aws_route_table", None, [("tags.Name", "rr", "ss")], "Low")]),
    ]),
    "aws_default_route_table": ("rtb-03fda555c6c35a1e5", [
        ("console route", route_to_igw,
         [("Modified", "aws_default_route_table", None, [("route", None, "8.8.8.8/32 -> CONSOLE_GW")], "High")]),
    ]),
    "aws_default_network_acl": ("acl-e88ee595", [
        ("open ssh", acl_entry(50, "allow"),
         [("Modified", "aws_default_network_acl", None, [("ingress", None, "50 allow tcp 0.0.0.0/0 22-22")], "Critical")]),
    ]),
    "aws_subnet": ("subnet-03c1a726f076cec6b", [
        ("public ips", lambda r, s: r.ec2.modify_subnet_attribute(SubnetId=s, MapPublicIpOnLaunch={"Value": True}),
         [("Modified", "aws_subnet", None, [("map_public_ip_on_launch", False, True)], "Medium")]),
        ("tag", retag("Tier", "web"), [("Modified", "aws_subnet", None, [("tags.Tier", None, "web")], "Low")]),
    ]),
    "aws_vpc": ("vpc-0a5666c0cfc366714", [
        ("tag", retag("Env", "prod"), [("Modified", "aws_vpc", None, [("tags.Env", None, "prod")], "Low")]),
    ]),
    "aws_vpc_security_group": ("sg-0254c038e32f25530", [
        ("open ssh", open_ssh,
         [("Modified", "aws_security_group", None, [("ingress", None, "tcp 22-22 0.0.0.0/0")], "Critical")]),
        ("egress revoked", revoke("egress", {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}),
         [("Modified", "aws_security_group", None, [("egress", "all all 0.0.0.0/0", None)], "High")]),
        ("tag", retag("Name", "Bar SG"), [("Modified", "aws_security_group", None, [("tags.Name", "Foo SG", "Bar SG")], "Low")]),
    ]),
    "aws_vpc_security_group_rule": ("sg-0254c038e32f25530", [
        ("rule revoked", revoke("ingress", {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "1.2.0.0/16"}, {"CidrIp": "5.6.7.0/24"}]}),
         [("Missing", "aws_security_group_rule", "sgrule-294318973", [], "High")]),
        ("one source revoked", revoke("ingress", {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "5.6.7.0/24"}]}),
         [("Modified", "aws_security_group_rule", "sgrule-294318973", [("ingress", "all all 5.6.7.0/24", None)], "High")]),
        ("console rule", open_ssh,
         [("Modified", "aws_security_group", None, [("ingress", None, "tcp 22-22 0.0.0.0/0")], "Critical")]),
    ]),
    # IAM: documents are reported in their canonical form (keys in order, a list
    # wherever IAM allows one, an empty Sid dropped), so a console edit that only
    # reformats a policy is no drift and one that widens it shows what changed.
    "aws_iam_role_multiple": ("test_role_0", [
        ("trust widened", lambda r, role: r.iam.update_assume_role_policy(RoleName=role, PolicyDocument=TRUST_ANYONE),
         [("Modified", "aws_iam_role", None, [("assume_role_policy", TRUST_EC2_CANONICAL, TRUST_ANYONE_CANONICAL)], "Critical")]),
        ("trust reformatted", lambda r, role: r.iam.update_assume_role_policy(RoleName=role, PolicyDocument=TRUST_EC2_REFORMATTED), []),
        ("description", lambda r, role: r.iam.update_role(RoleName=role, Description="made in the console"),
         [("Modified", "aws_iam_role", None, [("description", None, "made in the console")], "Medium")]),
        ("session", lambda r, role: r.iam.update_role(RoleName=role, MaxSessionDuration=7200),
         [("Modified", "aws_iam_role", None, [("max_session_duration", 3600, 7200)], "Medium")]),
        ("tag", lambda r, role: r.iam.tag_role(RoleName=role, Tags=[{"Key": "foo", "Value": "console"}]),
         [("Modified", "aws_iam_role", None, [("tags.foo", "bar0", "console")], "Low")]),
        ("boundary", lambda r, role: r.iam.put_role_permissions_boundary(RoleName=role, PermissionsBoundary=READ_ONLY),
         [("Modified", "aws_iam_role", None, [("permissions_boundary", None, READ_ONLY)], "High")]),
        ("inline policy added", lambda r, role: r.iam.put_role_policy(RoleName=role, PolicyName="console", PolicyDocument=ALLOW_ALL),
         [("Unmanaged", "aws_iam_role_policy", "test_role_0:console", [], "Medium")]),
        ("deleted", delete_role,
         [("Missing", "aws_iam_role", None, [], "High")]),
    ]),
    "aws_iam_policy_multiple": ("arn:aws:iam::929327065333:policy/policy-0", [
        ("new default version", lambda r, arn: r.iam.create_policy_version(PolicyArn=arn, PolicyDocument=ALLOW_ALL, SetAsDefault=True),
         [("Modified", "aws_iam_policy", None, [("policy", EC2_ADMIN_CANONICAL, ALLOW_ALL_CANONICAL)], "Critical")]),
        ("version not default", lambda r, arn: r.iam.create_policy_version(PolicyArn=arn, PolicyDocument=ALLOW_ALL, SetAsDefault=False), []),
        ("deleted", lambda r, arn: r.iam.delete_policy(PolicyArn=arn), [("Missing", "aws_iam_policy", None, [], "High")]),
    ]),
    "aws_iam_role_policy_multiple": ("test_role_0:policy-role0-0", [
        ("widened", lambda r, _: r.iam.put_role_policy(RoleName="test_role_0", PolicyName="policy-role0-0", PolicyDocument=ACCOUNT_AND_PASS_ROLE),
         [("Modified", "aws_iam_role_policy", None, [("policy", ACCOUNT_CANONICAL, ACCOUNT_AND_PASS_ROLE_CANONICAL)], "Critical")]),
        ("deleted", lambda r, _: r.iam.delete_role_policy(RoleName="test_role_0", PolicyName="policy-role0-0"),
         [("Missing", "aws_iam_role_policy", None, [], "High")]),
    ]),
    "aws_iam_role_policy_attachment": ("test-role-20201118162849968800000001", [
        ("detached", lambda r, _: r.iam.detach_role_policy(RoleName="test-role", PolicyArn=r.ids["arn:aws:iam::526954929923:policy/test-policy"]),
         [("Missing", "aws_iam_role_policy_attachment", None, [], "High")]),
    ]),
    "aws_iam_user_multiple": ("test-driftctl-0", [
        ("tag", lambda r, user: r.iam.tag_user(UserName=user, Tags=[{"Key": "foo", "Value": "console"}]),
         [("Modified", "aws_iam_user", None, [("tags.foo", "bar", "console")], "Low")]),
        # Not perturbed: moto answers PutUserPermissionsBoundary with a 500 (AWS sets
        # it and reports PermissionsBoundary in the user's details); the role's
        # boundary case covers the comparison.
        ("console user", lambda r, _: r.iam.create_user(UserName="console-admin"),
         [("Unmanaged", "aws_iam_user", "console-admin", [], "Medium")]),
    ]),
    "aws_iam_user_policy_multiple": ("loadbalancer2:test2", [
        ("widened", lambda r, _: r.iam.put_user_policy(UserName="loadbalancer2", PolicyName="test2", PolicyDocument=ALLOW_ALL),
         [("Modified", "aws_iam_user_policy", None, [("policy", EC2_DESCRIBE_CANONICAL, ALLOW_ALL_CANONICAL)], "Critical")]),
    ]),
    "aws_iam_user_policy_attachment": ("loadbalancer-20201113172255158500000009", [
        ("detached", lambda r, _: r.iam.detach_user_policy(UserName="loadbalancer", PolicyArn=r.ids["arn:aws:iam::526954929923:policy/test"]),
         [("Missing", "aws_iam_user_policy_attachment", None, [], "High")]),
    ]),
    "aws_iam_group": ("developers", [
        # moto's UpdateGroup ignores NewPath unless the group is renamed too (AWS moves
        # it, and GetAccountAuthorizationDetails then reports the new Path, which the
        # engine compares); the path comparison is covered by the role's and the
        # unit tests. Here: the group deleted behind the state's back.
        ("deleted", lambda r, group: r.iam.delete_group(GroupName=group), [("Missing", "aws_iam_group", None, [], "High")]),
    ]),
    "aws_iam_group_policy": ("developers:my_developer_policy", [
        ("widened", lambda r, _: r.iam.put_group_policy(GroupName="developers", PolicyName="my_developer_policy", PolicyDocument=EC2_ALL),
         [("Modified", "aws_iam_group_policy", None, [("policy", EC2_DESCRIBE_CANONICAL, EC2_ALL_CANONICAL)], "Critical")]),
    ]),
    "aws_iam_group_policy_attachment": ("test-group", []),
    "aws_s3_full": ("bucket-martin-test-drift", [
        ("policy widened", lambda r, b: r.s3.put_bucket_policy(Bucket=b, Policy=PUBLIC_ALL.replace("BUCKET", b)),
         [("Modified", "aws_s3_bucket_policy", None, [("policy", PUBLIC_READ_CANONICAL, PUBLIC_ALL_CANONICAL)], "Critical")]),
        ("policy deleted", lambda r, b: r.s3.delete_bucket_policy(Bucket=b), [("Missing", "aws_s3_bucket_policy", None, [], "High")]),
        ("tag", lambda r, b: r.s3.put_bucket_tagging(Bucket=b, Tagging={"TagSet": [{"Key": "Owner", "Value": "console"}]}),
         [("Modified", "aws_s3_bucket", None, [("tags.Owner", None, "console")], "Low")]),
        ("console bucket", lambda r, _: r.s3.create_bucket(Bucket="console-made", CreateBucketConfiguration={"LocationConstraint": r.region}),
         [("Unmanaged", "aws_s3_bucket", "console-made", [], "Medium")]),
    ]),
    "aws_s3_bucket_public_access_block": ("elie-dev-driftctl", [
        ("unblocked", lambda r, b: r.s3.put_public_access_block(Bucket=b, PublicAccessBlockConfiguration={
            "BlockPublicAcls": False, "BlockPublicPolicy": False, "IgnorePublicAcls": False, "RestrictPublicBuckets": False}),
         [("Modified", "aws_s3_bucket_public_access_block", None,
           [("block_public_acls", True, False), ("block_public_policy", True, False)], "Critical")]),
        ("removed", lambda r, b: r.s3.delete_public_access_block(Bucket=b),
         [("Missing", "aws_s3_bucket_public_access_block", None, [], "High")]),
    ]),
    "aws_ecr_repository": ("bar", [
        ("immutable tags", lambda r, repo: r.ecr.put_image_tag_mutability(repositoryName=repo, imageTagMutability="IMMUTABLE"),
         [("Modified", "aws_ecr_repository", None, [("image_tag_mutability", "MUTABLE", "IMMUTABLE")], "Medium")]),
        ("scan off", lambda r, repo: r.ecr.put_image_scanning_configuration(
            repositoryName=repo, imageScanningConfiguration={"scanOnPush": False}),
         [("Modified", "aws_ecr_repository", None,
           [("image_scanning_configuration", "scan_on_push=true", None),
            ("image_scanning_configuration", None, "scan_on_push=false")], "Medium")]),
        ("tag", lambda r, repo: r.ecr.tag_resource(
            resourceArn=r.ecr.describe_repositories(repositoryNames=[repo])["repositories"][0]["repositoryArn"],
            tags=[{"Key": "Team", "Value": "console"}]),
         [("Modified", "aws_ecr_repository", None, [("tags.Team", None, "console")], "Low")]),
        ("console repository", lambda r, _: r.ecr.create_repository(repositoryName="console-made"),
         [("Unmanaged", "aws_ecr_repository", "console-made", [], "Medium")]),
    ]),
    "aws_ecr_repository_policy": ("bar", [
        ("policy narrowed", lambda r, repo: r.ecr.set_repository_policy(repositoryName=repo, policyText=ECR_PULL_ONLY),
         [("Modified", "aws_ecr_repository_policy", None, [("policy", ECR_POLICY_CANONICAL, ECR_PULL_ONLY_CANONICAL)], "Critical")]),
        ("policy deleted", lambda r, repo: r.ecr.delete_repository_policy(repositoryName=repo),
         [("Missing", "aws_ecr_repository_policy", None, [], "High")]),
    ]),
    # Types discovery does not list: replayed as nothing, and never reported.
    "aws_lambda_function": ("bar", [
        ("memory", lambda r, f: r.lambda_.update_function_configuration(FunctionName=f, MemorySize=512),
         [("Modified", "aws_lambda_function", None, [("memory_size", 128, 512)], "Medium")]),
        ("runtime", lambda r, f: r.lambda_.update_function_configuration(FunctionName=f, Runtime="nodejs20.x"),
         [("Modified", "aws_lambda_function", None, [("runtime", "nodejs12.x", "nodejs20.x")], "Medium")]),
    ]),
    "aws_lb": ("arn:aws:elasticloadbalancing:us-east-1:533948124879:loadbalancer/app/test-lb-tf/35be57d467ff22b9", [
        ("deletion protection", lambda r, lb: r.elb.modify_load_balancer_attributes(
            LoadBalancerArn=lb, Attributes=[{"Key": "deletion_protection.enabled", "Value": "true"}]),
         [("Modified", "aws_alb", None, [("enable_deletion_protection", False, True)], "High")]),
        ("idle timeout", lambda r, lb: r.elb.modify_load_balancer_attributes(
            LoadBalancerArn=lb, Attributes=[{"Key": "idle_timeout.timeout_seconds", "Value": "600"}]),
         [("Modified", "aws_alb", None, [("idle_timeout", 60, 600)], "Medium")]),
        ("access logs on", lambda r, lb: r.elb.modify_load_balancer_attributes(LoadBalancerArn=lb, Attributes=[
            {"Key": "access_logs.s3.enabled", "Value": "true"}, {"Key": "access_logs.s3.bucket", "Value": "lb-logs"},
            {"Key": "access_logs.s3.prefix", "Value": "web"}]),
         [("Modified", "aws_alb", None, [("access_logs", None, "s3://lb-logs/web")], "Medium")]),
        ("tag", lambda r, lb: r.elb.add_tags(ResourceArns=[lb], Tags=[{"Key": "Environment", "Value": "prod"}]),
         [("Modified", "aws_alb", None, [("tags.Environment", "dev", "prod")], "Low")]),
        ("group swapped", lambda r, lb: r.elb.set_security_groups(LoadBalancerArn=lb, SecurityGroups=[console_group(r)]),
         [("Modified", "aws_alb", None, [("security_groups", ["sg-06fecfaa711e65b6c"], [ANY])], "High"),
          ("Unmanaged", "aws_security_group", ANY, [], "High")]),
    ]),
    "aws_lb_listener": ("arn:aws:elasticloadbalancing:us-east-1:533948124879:listener/app/test-lb-tf/168f3e312968e275/21a7de7e81a06bda", [
        ("port", lambda r, l: r.elb.modify_listener(ListenerArn=l, Port=8080),
         [("Modified", "aws_lb_listener", None, [("port", 80, 8080)], "Medium")]),
        ("answers itself", lambda r, l: r.elb.modify_listener(ListenerArn=l, DefaultActions=[{"Type": "fixed-response",
            "FixedResponseConfig": {"StatusCode": "503", "ContentType": "text/plain"}}]),
         [("Modified", "aws_lb_listener", None, [("default_action", "forward arn:aws:elasticloadbalancing:us-east-1:533948124879:targetgroup/tf-example-lb-tg/9e43d546683d8b35", None),
                                                 ("default_action", None, "fixed-response 503 text/plain")], "High")]),
        ("health check", lambda r, _: r.elb.modify_target_group(TargetGroupArn=r.ids["arn:aws:elasticloadbalancing:us-east-1:533948124879:targetgroup/tf-example-lb-tg/9e43d546683d8b35"], HealthCheckPath="/status"),
         [("Modified", "aws_lb_target_group", "arn:aws:elasticloadbalancing:us-east-1:533948124879:targetgroup/tf-example-lb-tg/9e43d546683d8b35", [
             ("health_check", "enabled=true HTTP:traffic-port/ every 30s timeout 5s healthy 5 unhealthy 2 matcher 200", None),
             ("health_check", None, "enabled=true HTTP:traffic-port/status every 30s timeout 5s healthy 5 unhealthy 2 matcher 200")], "Medium")]),
        ("deregistration delay", lambda r, _: r.elb.modify_target_group_attributes(TargetGroupArn=r.ids["arn:aws:elasticloadbalancing:us-east-1:533948124879:targetgroup/tf-example-lb-tg/9e43d546683d8b35"],
            Attributes=[{"Key": "deregistration_delay.timeout_seconds", "Value": "30"}]),
         [("Modified", "aws_lb_target_group", "arn:aws:elasticloadbalancing:us-east-1:533948124879:targetgroup/tf-example-lb-tg/9e43d546683d8b35", [("deregistration_delay", "300", "30")], "Medium")]),
        # A target registered in the console, on a group whose state registers none.
        ("target registered", register_console_target,
         [("Modified", "aws_lb_target_group", "arn:aws:elasticloadbalancing:us-east-1:533948124879:targetgroup/tf-example-lb-tg/9e43d546683d8b35", [("targets", None, ANY)], "High")]),
    ]),
    "aws_db_instance": ("terraform-20201015115018309600000001", [
        ("resized", lambda r, db: r.rds.modify_db_instance(DBInstanceIdentifier=db, DBInstanceClass="db.m5.large", ApplyImmediately=True),
         [("Modified", "aws_db_instance", None, [("instance_class", "db.t2.micro", "db.m5.large")], "Medium")]),
        ("made public", lambda r, db: r.rds.modify_db_instance(DBInstanceIdentifier=db, PubliclyAccessible=True, ApplyImmediately=True),
         [("Modified", "aws_db_instance", None, [("publicly_accessible", False, True)], "Critical")]),
        ("backups", lambda r, db: r.rds.modify_db_instance(DBInstanceIdentifier=db, BackupRetentionPeriod=7, ApplyImmediately=True),
         [("Modified", "aws_db_instance", None, [("backup_retention_period", 0, 7)], "High")]),
        ("deletion protection", lambda r, db: r.rds.modify_db_instance(DBInstanceIdentifier=db, DeletionProtection=True, ApplyImmediately=True),
         [("Modified", "aws_db_instance", None, [("deletion_protection", False, True)], "High")]),
        ("tag", lambda r, db: r.rds.add_tags_to_resource(ResourceName=f"arn:aws:rds:eu-west-3:123456789012:db:{db}", Tags=[{"Key": "Owner", "Value": "console"}]),
         [("Modified", "aws_db_instance", None, [("tags.Owner", None, "console")], "Low")]),
    ]),
    "aws_db_subnet_group": ("bar", [
        ("subnet removed", lambda r, g: modify_subnet_group(r, g, "Managed by Terraform", [r.ids["subnet-63c5f90a"]]),
         [("Modified", "aws_db_subnet_group", None, [("subnet_ids", ["subnet-63c5f90a", "subnet-d81e8695"], ["subnet-63c5f90a"])], "High")]),
        ("made in console", lambda r, _: r.rds.create_db_subnet_group(DBSubnetGroupName="console", DBSubnetGroupDescription="x",
                                                                      SubnetIds=[r.ids["subnet-63c5f90a"]]),
         [("Unmanaged", "aws_db_subnet_group", "console", [], "Medium")]),
    ]),
    "aws_api_gateway_rest_api": ("1jitcobwol", [
        ("description", lambda r, a: r.apigw.update_rest_api(restApiId=a, patchOperations=[
            {"op": "replace", "path": "/description", "value": "edited"}]),
         [("Modified", "aws_api_gateway_rest_api", None, [("description", "This is foo API", "edited")], "Medium")]),
        # A route added in the console on an API whose methods Terraform manages one by one.
        ("method added", add_console_method,
         [("Modified", "aws_api_gateway_rest_api", None, [("methods", None, ANY)], "High")]),
        # Tags are not perturbed: moto does not route API Gateway's TagResource (404).
    ]),
    "aws_api_gateway_resource": ("wijcbm", []),
    "aws_api_gateway_method": ("agm-vryjzimtj1-hl7ksq-GET", [
        ("authorization", lambda r, _: remade_method(r, authorizationType="AWS_IAM"),
         [("Modified", "aws_api_gateway_method", None, [("authorization", "NONE", "AWS_IAM")], "High")]),
        ("api key", lambda r, _: remade_method(r, authorizationType="NONE", apiKeyRequired=True),
         [("Modified", "aws_api_gateway_method", None, [("api_key_required", False, True)], "High")]),
        ("deleted", lambda r, _: r.apigw.delete_method(restApiId=r.ids["vryjzimtj1"], resourceId=r.ids["hl7ksq"], httpMethod="GET"),
         [("Missing", "aws_api_gateway_method", None, [], "High")]),
    ]),
    "aws_api_gateway_integration": ("agi-u7jce3lokk-z9ag20-GET", [
        # Requests sent elsewhere: the integration now proxies to a host of the console user's.
        ("retargeted", lambda r, _: r.apigw.put_integration(restApiId=r.ids["u7jce3lokk"], resourceId=r.ids["z9ag20"], httpMethod="GET",
            type="HTTP_PROXY", integrationHttpMethod="GET", uri="https://collector.example.com/", timeoutInMillis=29000),
         [("Modified", "aws_api_gateway_integration", None, [("type", "MOCK", "HTTP_PROXY"), ("integration_http_method", None, "GET"),
                                                               ("uri", None, "https://collector.example.com/")], "High")]),
    ]),
    "aws_api_gateway_method_response": ("agmr-vryjzimtj1-oy4dqf-GET-200", []),
    "aws_api_gateway_integration_response": ("agir-u7jce3lokk-z9ag20-GET-200", [
        ("deleted", lambda r, _: r.apigw.delete_integration_response(restApiId=r.ids["u7jce3lokk"], resourceId=r.ids["z9ag20"],
                                                                      httpMethod="GET", statusCode="200"),
         [("Missing", "aws_api_gateway_integration_response", None, [], "High")]),
    ]),
    "aws_api_gateway_stage": ("ags-3of73v5ob4-foo", [
        ("variables", lambda r, _: r.apigw.update_stage(restApiId=r.ids["3of73v5ob4"], stageName="foo", patchOperations=[
            {"op": "replace", "path": "/variables/backend", "value": "staging"}]),
         [("Modified", "aws_api_gateway_stage", None, [("variables", None, "backend=staging")], "Medium")]),
        ("tracing", lambda r, _: r.apigw.update_stage(restApiId=r.ids["3of73v5ob4"], stageName="foo", patchOperations=[
            {"op": "replace", "path": "/tracingEnabled", "value": "true"}]),
         [("Modified", "aws_api_gateway_stage", None, [("xray_tracing_enabled", False, True)], "Medium")]),
        ("stage made", lambda r, _: r.apigw.create_stage(restApiId=r.ids["3of73v5ob4"], stageName="console",
                                                         deploymentId=r.ids["i5bl4e"]),
         []),
    ]),
    "aws_api_gateway_request_validator": ("tak8bq", [
        ("body not validated", lambda r, v: r.apigw.update_request_validator(restApiId=r.ids["zetudukz30"], requestValidatorId=v,
            patchOperations=[{"op": "replace", "path": "/validateRequestBody", "value": "false"}]),
         [("Modified", "aws_api_gateway_request_validator", None, [("validate_request_body", True, False)], "Medium")]),
    ]),
    "aws_kms_key": ("5d765f32-bfdc-4610-b6ab-f82db5d0601b", [
        ("enabled", lambda r, k: r.kms.enable_key(KeyId=k),
         [("Modified", "aws_kms_key", None, [("is_enabled", False, True)], "High")]),
        ("rotation", lambda r, k: r.kms.enable_key_rotation(KeyId=k),
         [("Modified", "aws_kms_key", None, [("enable_key_rotation", False, True)], "High")]),
        ("policy widened", lambda r, k: r.kms.put_key_policy(KeyId=k, PolicyName="default", Policy=KMS_ANYONE),
         [("Modified", "aws_kms_key", None, [("policy", KMS_ROOT_CANONICAL, KMS_ANYONE_CANONICAL)], "Critical")]),
        ("tag", lambda r, k: r.kms.tag_resource(KeyId=k, Tags=[{"TagKey": "Foo", "TagValue": "false"}]),
         [("Modified", "aws_kms_key", None, [("tags.Foo", "true", "false")], "Low")]),
        ("scheduled for deletion", lambda r, k: r.kms.schedule_key_deletion(KeyId=k, PendingWindowInDays=7),
         [("Missing", "aws_kms_key", None, [], "High")]),
    ]),
    "aws_kms_alias": ("alias/foo", [
        ("retargeted", lambda r, a: r.kms.update_alias(AliasName=a, TargetKeyId=console_key(r)),
         [("Modified", "aws_kms_alias", None, [("target_key_id", "341b2d76-feab-4911-b5de-fbdd92b21aa7", ANY)], "High"),
          ("Unmanaged", "aws_kms_key", ANY, [], "Medium")]),
    ]),
    "aws_apigatewayv2_api": ("f5vdrg12tk", [
        ("renamed", lambda r, a: r.apigw2.update_api(ApiId=a, Name="renamed"),
         [("Modified", "aws_apigatewayv2_api", None, [("name", "example-websocket-api", "renamed")], "Medium")]),
        # A route added in the console on an API whose routes Terraform manages one by one.
        ("route added", lambda r, a: r.apigw2.create_route(ApiId=a, RouteKey="admin"),
         [("Modified", "aws_apigatewayv2_api", None, [("routes", None, "admin")], "High")]),
    ]),
    "aws_apigatewayv2_route": ("dcab", [
        ("authorization", lambda r, route: r.apigw2.update_route(ApiId=r.ids["abcd"], RouteId=route, AuthorizationType="AWS_IAM"),
         [("Modified", "aws_apigatewayv2_route", None, [("authorization_type", "NONE", "AWS_IAM")], "High")]),
        ("deleted", lambda r, route: r.apigw2.delete_route(ApiId=r.ids["abcd"], RouteId=route),
         [("Missing", "aws_apigatewayv2_route", None, [], "High")]),
    ]),
    "aws_apigatewayv2_integration": ("fmezvlh", [
        ("retargeted", lambda r, i: r.apigw2.update_integration(ApiId=r.ids["yw28nwdf34"], IntegrationId=i, IntegrationType="HTTP_PROXY",
                                                                IntegrationUri="https://collector.example.com/", IntegrationMethod="ANY"),
         [("Modified", "aws_apigatewayv2_integration", None, [("integration_type", "MOCK", "HTTP_PROXY"),
                                                              ("integration_uri", None, "https://collector.example.com/"),
                                                              ("integration_method", None, "ANY")], "High")]),
    ]),
    # Stages have no update in moto: one is made again with other settings (AWS keeps
    # a stage's name, so that is the same stage changed).
    "aws_apigatewayv2_stage": ("example-stage", [
        ("throttling lifted", lambda r, _: restage(r, DefaultRouteSettings={"DetailedMetricsEnabled": False, "ThrottlingBurstLimit": 5000, "ThrottlingRateLimit": 10000.0}),
         [("Modified", "aws_apigatewayv2_stage", None, [
             ("default_route_settings", "trace=false metrics=false logging=OFF burst=0 rate=0", None),
             ("default_route_settings", None, "trace=false metrics=false logging=OFF burst=5000 rate=10000")], "High")]),
        ("deleted", lambda r, _: r.apigw2.delete_stage(ApiId=r.ids["hn5fxpwfae"], StageName="example-stage"),
         [("Missing", "aws_apigatewayv2_stage", None, [], "High")]),
        ("stage made", lambda r, _: r.apigw2.create_stage(ApiId=r.ids["hn5fxpwfae"], StageName="console"),
         [("Unmanaged", "aws_apigatewayv2_stage", ANY, [], "Medium")]),
    ]),
    # moto has no update for either: a domain or mapping is made again with other
    # settings under the same name or id (moto's mapping id is a hash of its key).
    "aws_apigatewayv2_domain_name": ("driftctl.example.com", [
        ("tls downgraded", lambda r, d: redomain(r, d, "TLS_1_0"),
         [("Modified", "aws_apigatewayv2_domain_name", None, [
             ("domain_name_configuration", f"REGIONAL {DOMAIN_CERT} TLS_1_2", None),
             ("domain_name_configuration", None, f"REGIONAL {DOMAIN_CERT} TLS_1_0")], "High")]),
        ("deleted", lambda r, d: r.apigw2.delete_domain_name(DomainName=d),
         [("Missing", "aws_apigatewayv2_domain_name", None, [], "High")]),
    ]),
    "aws_apigatewayv2_api_mapping": ("f02opk", [
        ("remapped", lambda r, m: remap(r, m),
         [("Modified", "aws_apigatewayv2_api_mapping", None, [("api_id", "wbachnbphj", ANY)], "High"),
          ("Unmanaged", "aws_apigatewayv2_api", ANY, [], "Medium")]),
        ("deleted", lambda r, m: r.apigw2.delete_api_mapping(ApiMappingId=m, DomainName="driftctl.example.com"),
         [("Missing", "aws_apigatewayv2_api_mapping", None, [], "High")]),
    ]),
    "aws_dynamodb_table": ("GameScores", [
        ("recovery on", lambda r, t: r.dynamodb.update_continuous_backups(
            TableName=t, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}),
         [("Modified", "aws_dynamodb_table", None, [("point_in_time_recovery", None, "enabled")], "High")]),
        ("capacity", lambda r, t: r.dynamodb.update_table(TableName=t, ProvisionedThroughput={"ReadCapacityUnits": 50, "WriteCapacityUnits": 20}),
         [("Modified", "aws_dynamodb_table", None, [("read_capacity", 20, 50)], "Medium")]),
        ("tag", lambda r, t: r.dynamodb.tag_resource(ResourceArn=f"arn:aws:dynamodb:us-east-1:123456789012:table/{t}",
                                                     Tags=[{"Key": "Environment", "Value": "staging"}]),
         [("Modified", "aws_dynamodb_table", None, [("tags.Environment", "production", "staging")], "Low")]),
    ]),
    "aws_route53_zone": (None, []),
    # The record's name is relative (`test`), as configured: matched by its fqdn.
    "aws_route53_record": ("Z09368953G729AFEX5048_test_A", [
        ("repointed", lambda r, _: r.route53.change_resource_record_sets(HostedZoneId=r.ids["Z09368953G729AFEX5048"], ChangeBatch={
            "Changes": [{"Action": "UPSERT", "ResourceRecordSet": {"Name": "test.elie.ski", "Type": "A", "TTL": 300,
                                                                    "ResourceRecords": [{"Value": "5.6.7.8"}]}}]}),
         [("Modified", "aws_route53_record", None, [("records", ["1.2.3.4"], ["5.6.7.8"])], "High")]),
    ]),
    "aws_ebs_encryption_by_default": (None, []),
    "aws_ec2_ami": (None, []),
    "aws_ec2_ebs_snapshot": (None, []),
    "aws_launch_configuration": (None, []),
    "aws_launch_template": ("lt-0ed993d09ce6afc67", [
        # A version made in the console becomes the latest: the state's data is no longer what launches.
        ("new version", lambda r, t: r.ec2.create_launch_template_version(LaunchTemplateId=t, SourceVersion="1",
                                                                          LaunchTemplateData={"ImageId": "ami-12c6146b"}),
         [("Modified", "aws_launch_template", None, [("latest_version", 1, 2), ("image_id", "ami-000b3a073fc20e415", "ami-12c6146b")], "High")]),
    ]),
}

SYNTHETIC = ["network-stack", "iam-stack", "s3-stack", "lambda-stack", "elb-stack", "rds-stack", "vpc-attachments", "eks-stack",
             "compute-stack", "efs-stack", "edge-stack"]


def not_checked(summary):
    """The summary's not-checked groups, as {(type, reason): count}."""
    return {(g["type"], g["reason"]): g["count"] for g in summary.get("notChecked", [])}


def unsupported(state, skipped):
    """What a scan must name as not checked: every instance of a type it does not list."""
    counts = {}
    for type_, _, _ in managed(state):
        if type_ in skipped:
            counts[(type_, "UnsupportedType")] = counts.get((type_, "UnsupportedType"), 0) + 1
    return counts


def secrets(state):
    """Values that must never leave driftmgr: functions' environment values, database
    passwords."""
    values = [value for type_, _, a in managed(state) if type_ == "aws_lambda_function"
              for block in a.get("environment") or [] for value in (block.get("variables") or {}).values()]
    values += [variable["value"] for type_, _, a in managed(state) if type_ == "aws_ecs_task_definition"
               for container in json.loads(a.get("container_definitions") or "[]") for variable in container.get("environment") or []]
    values += [a["master_password"] for type_, _, a in managed(state) if type_ == "aws_rds_cluster" and a.get("master_password")]
    return values + [a["password"] for type_, _, a in managed(state) if type_ == "aws_db_instance" and a.get("password")]


def replayed_count(state):
    """State resources of the types the replay creates (and discovery checks)."""
    return sum(1 for type_, _, _ in managed(state) if type_ in Replay.ORDER)


def expected_value(replay, value):
    if isinstance(value, str):
        ids = replay.tuple_free_ids()
        for old in sorted(ids, key=len, reverse=True):
            value = value.replace(old, ids[old])
        return value.replace("CONSOLE_GW", getattr(replay, "console_gateway", "") or "")
    if isinstance(value, list):
        return [expected_value(replay, v) for v in value]
    return value


def same(expected, actual):
    if expected is ANY:
        return actual is not None
    if isinstance(expected, list) and isinstance(actual, list):
        if all(isinstance(x, str) for x in expected + actual):
            return sorted(expected) == sorted(actual)  # a set, reported in the cloud's id order
        return len(expected) == len(actual) and all(same(e, a) for e, a in zip(expected, actual))
    return expected == actual


def check_items(replay, target, items, expected):
    """None when the report holds exactly the expected items, else what differs."""
    extra_ok = {new for _, new in getattr(replay, "unexpected_ok", [])}
    items = [i for i in items if i["id"] not in extra_ok]
    if len(items) != len(expected):
        return f"expected {len(expected)} item(s), got {json.dumps(items)}"
    for (kind, type_, old_id, changes, severity), item in zip(sorted(expected, key=lambda e: e[:2]), sorted(items, key=lambda i: (i["kind"], i["type"]))):
        want_id = ANY if old_id is ANY else expected_value(replay, old_id or target)
        got_changes = [(c["path"], c.get("expected"), c.get("actual")) for c in item.get("changes", [])]
        want_changes = [(p, expected_value(replay, e), expected_value(replay, a)) for p, e, a in changes]
        if (item["kind"], item["type"], item["severity"]) != (kind, type_, severity) or not same(want_id, item["id"]):
            return f"expected {kind} {type_} {want_id} [{severity}], got {json.dumps(item)}"
        if not same([list(c) for c in want_changes], [list(c) for c in got_changes]):
            return f"expected changes {want_changes}, got {got_changes}"
    return None


def main():
    driftmgr, moto, fixtures = sys.argv[1:4]
    failures, checks = [], 0
    cases = [(f"driftctl/test/{name}", target, perturbations) for name, (target, perturbations) in FIXTURES.items()]
    cases += [(f"replay/{name}", *SYNTHETIC_CASES[name]) for name in SYNTHETIC]
    # Which cases: those whose path holds the fourth argument, or, when it starts with
    # `!`, those whose path does not (the IAM cases run on a moto of their own).
    only = sys.argv[4] if len(sys.argv) > 4 else ""
    if only.startswith("!"):
        cases = [c for c in cases if only[1:] not in c[0]]
    else:
        cases = [c for c in cases if only in c[0]]
    with tempfile.TemporaryDirectory(prefix="driftmgr-replay-") as work:
        for path, target, perturbations in cases:
            state_file = os.path.join(fixtures, path, "terraform.tfstate") if path.startswith("driftctl") \
                else os.path.join(fixtures, f"{path}.tfstate")
            with open(state_file) as f:
                state = json.load(f)
            for name, action, expected in [(None, None, [])] + perturbations:
                checks += 1
                label = f"{path}" + (f" / {name}" if name else " in sync")
                reset(moto)
                replay = Replay(moto, state)
                try:
                    rewritten, context, skipped = replay.run()
                    if action:
                        action(replay, replay.ids.get(target, target))
                except Exception as error:  # a replay bug is a failed check, with its cause
                    failures.append(f"{label}: replay failed: {error!r}")
                    print(f"FAIL {label}: replay failed: {error!r}")
                    continue
                files = []
                for suffix, content in (("state", rewritten), ("context", context)):
                    file = os.path.join(work, f"{suffix}.tfstate")
                    with open(file, "w") as f:
                        json.dump(content, f)
                    files.append(file)
                code, report, stderr = scan(driftmgr, moto, replay.region, files, scope(state, context, expected))
                leaked = [v for v in secrets(state) if v in json.dumps(report) + stderr]
                if report is None:
                    problem = f"no JSON report (exit {code}): {stderr.strip()}"
                elif leaked:
                    problem = f"environment values in the report or log: {leaked}"
                elif name is None:
                    s = report["summary"]
                    problem = None
                    if (s["modified"], s["missing"], s["unmanaged"], code) != (0, 0, 0, 0):
                        problem = f"not in sync (exit {code}): {json.dumps(report['items'])}"
                    elif skipped and s["managed"] != replayed_count(state) + sum(len(r["instances"]) for r in context["resources"]):
                        problem = f"types {skipped} are not discovered and must not be compared: {s}"
                    elif skipped and not_checked(s) != unsupported(state, skipped):
                        problem = f"types {skipped} must be named not checked (UnsupportedType): {s.get('notChecked')}"
                else:
                    problem = check_items(replay, target, report["items"], expected)
                    want_code = 2 if expected else 0  # a change that means nothing is no drift
                    if problem is None and code != want_code:
                        problem = f"must exit {want_code}, exited {code}"
                if problem:
                    failures.append(f"{label}: {problem}")
                    print(f"FAIL {label}: {problem}")
                else:
                    managed = report["summary"]["managed"] if report else 0
                    print(f"ok   {label} (managed {managed}{', not discovered: ' + ', '.join(skipped) if skipped else ''})")
    print(f"{checks - len(failures)} passed, {len(failures)} failed")
    sys.exit(1 if failures else 0)


def detach_volume(r, volume):
    # moto needs the instance (AWS does not); it fails with a 500 without it.
    attachment = r.ec2.describe_volumes(VolumeIds=[volume])["Volumes"][0]["Attachments"][0]
    r.ec2.detach_volume(VolumeId=volume, InstanceId=attachment["InstanceId"], Device=attachment["Device"])


def revoke_sgr(r, group):
    rules = r.ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [group]}])["SecurityGroupRules"]
    ids = [x["SecurityGroupRuleId"] for x in rules if not x["IsEgress"]]
    r.ec2.revoke_security_group_ingress(GroupId=group, SecurityGroupRuleIds=ids)


def swap_profile_role(r, profile):
    r.iam.create_role(RoleName="console-role", AssumeRolePolicyDocument=TRUST_ANYONE)
    r.iam.remove_role_from_instance_profile(InstanceProfileName=profile, RoleName="app")
    r.iam.add_role_to_instance_profile(InstanceProfileName=profile, RoleName="console-role")


def s3_defaults(r, _):
    r.s3.put_public_access_block(Bucket="app-logs", PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True, "RestrictPublicBuckets": True})
    r.s3.put_bucket_encryption(Bucket="app-logs", ServerSideEncryptionConfiguration={
        "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}, "BucketKeyEnabled": False}]})
    r.s3.put_bucket_ownership_controls(Bucket="app-logs", OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]})


def oidc_with_extra_audience(r, _):
    r.iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=GITHUB_OIDC)
    r.iam.create_open_id_connect_provider(
        Url="https://token.actions.githubusercontent.com", ClientIDList=["sts.amazonaws.com", "evil.example.com"],
        ThumbprintList=["6938fd4d98bab03faadb97b34396831e3780aea1"],
        Tags=[{"Key": "Name", "Value": "github"}, {"Key": "ManagedBy", "Value": "terraform"}])


SSM_CORE = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"
S3_KEY = "arn:aws:kms:eu-west-1:123456789012:key/0a11c0ff-ee00-4000-8000-000000000001"
APP_DATA = "arn:aws:iam::123456789012:policy/app/app-data-read"
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
GITHUB_OIDC = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"

def env_entry(key, value):
    """A variable as the function's `environment` compares it: by the value's SHA-256."""
    return f"{key}=sha256:{hashlib.sha256(value.encode()).hexdigest()}"


def new_code(r, f):
    r.lambda_.update_function_code(FunctionName=f, ZipFile=lambda_package("index.handler", "exports.handler = () => 'pwned';"))


def swap_role(r, f):
    arn = r.iam.create_role(RoleName="console-admin", AssumeRolePolicyDocument=LAMBDA_TRUST)["Role"]["Arn"]
    r.lambda_.update_function_configuration(FunctionName=f, Role=arn)


def console_function(r, _):
    role = r.iam.get_role(RoleName="orders-lambda")["Role"]["Arn"]
    r.lambda_.create_function(FunctionName="console-fn", Runtime="nodejs20.x", Role=role, Handler="index.handler",
                              Code={"ZipFile": lambda_package("index.handler")})
    r.logs.create_log_group(logGroupName="/aws/lambda/console-fn")


ORDERS_ROLE = "arn:aws:iam::123456789012:role/orders-lambda"
ORDERS_CODE = "ZiIWcWvSNqY/mMHY1y19m2ySHZMVw3EtBe5mcRv45HY="
PWNED_CODE = base64.b64encode(hashlib.sha256(lambda_package("index.handler", "exports.handler = () => 'pwned';")).digest()).decode()

WEB_LB = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/web/0a11c0ffee000001"
API_TG = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/api/0a11c0ffee000002"
HTTP_LISTENER = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/web/0a11c0ffee000001/0a11c0ffee000003"
API_LISTENER = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/web/0a11c0ffee000001/0a11c0ffee000004"
API_RULE = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener-rule/app/web/0a11c0ffee000001/0a11c0ffee000004/0a11c0ffee000005"
API_CHECK = "enabled=true HTTP:traffic-port/healthz every 15s timeout 5s healthy 3 unhealthy 3 matcher 200-299"

ORDERS_SUBNETS = ["subnet-0d1b0c0ffee000001", "subnet-0d1b0c0ffee000002"]
ORDERS_DB = "db-0A11C0FFEE00000000000001"  # Terraform's id (v5): the resource id

S3_ENDPOINT = "vpce-0c1b0c0ffee000001"
ENDPOINT_POLICY_WIDE = '{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}'

APPS = "arn:aws:ecs:eu-west-1:123456789012:cluster/apps"
WEB_SERVICE = "arn:aws:ecs:eu-west-1:123456789012:service/apps/web"

SHOP_ZONE = "Z0A11C0FFEE00001"
SHOP_CERT = "arn:aws:acm:eu-west-1:123456789012:certificate/0a11c0ff-ee00-4000-8000-000000000004"


def change_record(r, action, name, kind, values, ttl=300):
    r.route53.change_resource_record_sets(HostedZoneId=r.ids[SHOP_ZONE], ChangeBatch={"Changes": [{"Action": action, "ResourceRecordSet": {
        "Name": name, "Type": kind, "TTL": ttl, "ResourceRecords": [{"Value": v} for v in values]}}]})


SYNTHETIC_CASES = {
    "edge-stack": (SHOP_CERT, [
        ("certificate deleted", lambda r, c: r.acm.delete_certificate(CertificateArn=c),
         [("Missing", "aws_acm_certificate", SHOP_CERT, [], "High"),
          ("Missing", "aws_acm_certificate_validation", "2025-03-02 10:11:13.000 +0000 UTC", [], "High")]),
        # A record pointed at another address: traffic goes elsewhere.
        ("record repointed", lambda r, _: change_record(r, "UPSERT", "www.shop.example.com", "A", ["198.51.100.66"]),
         [("Modified", "aws_route53_record", f"{SHOP_ZONE}_www.shop.example.com_A",
           [("records", ["203.0.113.10", "203.0.113.11"], ["198.51.100.66"])], "High")]),
        ("ttl", lambda r, _: change_record(r, "UPSERT", "api.shop.example.com", "CNAME", ["api-origin.shop.example.net"], ttl=3600),
         [("Modified", "aws_route53_record", f"{SHOP_ZONE}_api.shop.example.com_CNAME", [("ttl", 60, 3600)], "Medium")]),
        ("record made", lambda r, _: change_record(r, "CREATE", "admin.shop.example.com", "A", ["198.51.100.66"]),
         [("Unmanaged", "aws_route53_record", ANY, [], "Medium")]),
        ("certificate tag", lambda r, c: r.acm.add_tags_to_certificate(CertificateArn=c, Tags=[{"Key": "ManagedBy", "Value": "console"}]),
         [("Modified", "aws_acm_certificate", None, [("tags.ManagedBy", "terraform", "console")], "Low")]),
        ("layer version deleted", lambda r, _: r.lambda_.delete_layer_version(LayerName="shop-deps", VersionNumber=1),
         [("Missing", "aws_lambda_layer_version", "arn:aws:lambda:eu-west-1:123456789012:layer:shop-deps:1", [], "High")]),
    ]),
    "efs-stack": ("fs-0a11c0ffee000001", [
        ("mount target groups", lambda r, _: r.efs.modify_mount_target_security_groups(
            MountTargetId=r.ids["fsmt-0a11c0ffee000001"], SecurityGroups=[console_efs_group(r)]),
         [("Modified", "aws_efs_mount_target", "fsmt-0a11c0ffee000001", [("security_groups", ["sg-0a11c0ffee00000ef"], [ANY])], "High"),
          ("Unmanaged", "aws_security_group", ANY, [], "High")]),
        ("mount target made", lambda r, fs: r.efs.create_mount_target(FileSystemId=fs, SubnetId=console_subnet(r)),
         [("Unmanaged", "aws_efs_mount_target", ANY, [], "Medium"), ("Unmanaged", "aws_subnet", ANY, [], "Medium")]),
        ("tag", lambda r, fs: r.efs.tag_resource(ResourceId=fs, Tags=[{"Key": "ManagedBy", "Value": "console"}]),
         [("Modified", "aws_efs_file_system", None, [("tags.ManagedBy", "terraform", "console")], "Low")]),
    ]),
    "compute-stack": (WEB_SERVICE, [
        ("scaled", lambda r, _: r.ecs.update_service(cluster="apps", service="web", desiredCount=5),
         [("Modified", "aws_ecs_service", WEB_SERVICE, [("desired_count", 2, 5)], "Medium")]),
        # A revision registered and deployed outside Terraform: a new image runs.
        ("new revision deployed", new_revision,
         [("Modified", "aws_ecs_service", WEB_SERVICE, [("task_definition", "web:3", None), ("task_definition", None, "web:4")], "High"),
          ("Modified", "aws_ecs_task_definition", "web", [("revision", 3, 4), ("container_definitions", "web=nginx:1.27", None),
                                                          ("container_definitions", None, "web=nginx:latest"),
                                                          ("tags.ManagedBy", "terraform", None)], "High")]),
        # Cluster settings are not perturbed: moto answers UpdateClusterSettings with a 500.
        ("cluster tag", lambda r, _: r.ecs.tag_resource(resourceArn=r.ids.get(APPS, APPS), tags=[{"key": "Team", "value": "ops"}]),
         [("Modified", "aws_ecs_cluster", APPS, [("tags.Team", "web", "ops")], "Low")]),
        ("group bounds", lambda r, _: r.autoscaling.update_auto_scaling_group(AutoScalingGroupName="workers", MaxSize=10),
         [("Modified", "aws_autoscaling_group", "workers", [("max_size", 4, 10)], "Medium")]),
        ("scaled out", lambda r, _: r.autoscaling.set_desired_capacity(AutoScalingGroupName="workers", DesiredCapacity=3), []),
        ("group tag", lambda r, _: r.autoscaling.create_or_update_tags(Tags=[{"ResourceId": "workers", "ResourceType": "auto-scaling-group",
                                                                              "Key": "Name", "Value": "console", "PropagateAtLaunch": True}]),
         [("Modified", "aws_autoscaling_group", "workers", [("tag", "Name=worker at launch=true", None), ("tag", None, "Name=console at launch=true")], "Medium")]),
    ]),
    "eks-stack": ("prod", [
        # The API server opened to the internet.
        ("endpoint opened", lambda r, c: reconfigured_cluster(r, c, endpointPublicAccess=True),
         [("Modified", "aws_eks_cluster", None, [("vpc_config", "endpoint_public_access=false", None),
                                                 ("vpc_config", None, "endpoint_public_access=true")], "High")]),
        ("scaled by the autoscaler", lambda r, _: r.eks.update_nodegroup_config(
            clusterName="prod", nodegroupName="general", scalingConfig={"minSize": 2, "maxSize": 6, "desiredSize": 5}), []),
        ("bounds raised", lambda r, _: r.eks.update_nodegroup_config(
            clusterName="prod", nodegroupName="general", scalingConfig={"minSize": 2, "maxSize": 20, "desiredSize": 3}),
         [("Modified", "aws_eks_node_group", "prod:general", [("scaling_config", "min=2 max=6", None), ("scaling_config", None, "min=2 max=20")], "Medium")]),
        ("labels", lambda r, _: r.eks.update_nodegroup_config(clusterName="prod", nodegroupName="general",
                                                              labels={"addOrUpdateLabels": {"pool": "spot"}}),
         [("Modified", "aws_eks_node_group", "prod:general", [("labels", "pool=general", None), ("labels", None, "pool=spot")], "Medium")]),
        ("node group made", lambda r, _: r.eks.create_nodegroup(clusterName="prod", nodegroupName="console", nodeRole="arn:aws:iam::123456789012:role/x",
                                                                subnets=[r.ids["subnet-0e2b0c0ffee000001"]]),
         [("Unmanaged", "aws_eks_node_group", "prod:console", [], "Medium")]),
        ("key rotation off", lambda r, _: r.kms.disable_key_rotation(KeyId=r.ids["0e2b0c0f-fee0-4000-8000-000000000001"]),
         [("Modified", "aws_kms_key", "0e2b0c0f-fee0-4000-8000-000000000001", [("enable_key_rotation", True, False)], "High")]),
    ]),
    "vpc-attachments": (S3_ENDPOINT, [
        ("policy widened", lambda r, e: r.ec2.modify_vpc_endpoint(VpcEndpointId=e, PolicyDocument=ENDPOINT_POLICY_WIDE),
         [("Modified", "aws_vpc_endpoint", None, [("policy", '{"Statement":[{"Action":["s3:GetObject","s3:PutObject"],"Effect":"Allow","Principal":{"AWS":["*"]},"Resource":["arn:aws:s3:::app-assets/*"]}],"Version":"2008-10-17"}',
                                                   '{"Statement":[{"Action":["*"],"Effect":"Allow","Principal":{"AWS":["*"]},"Resource":["*"]}],"Version":"2008-10-17"}')], "Critical")]),
        ("association removed", lambda r, e: r.ec2.modify_vpc_endpoint(VpcEndpointId=e, RemoveRouteTableIds=[r.ids["rtb-0c1b0c0ffee000002"]]),
         [("Missing", "aws_vpc_endpoint_route_table_association", "a-vpce-0c1b0c0ffee0000011234567890", [], "High")]),
        ("route table added", lambda r, e: r.ec2.modify_vpc_endpoint(VpcEndpointId=e, AddRouteTableIds=[console_route_table(r)]),
         [("Modified", "aws_vpc_endpoint", None, [("route_table_ids", None, ANY)], "High"),
          ("Unmanaged", "aws_route_table", ANY, [], "Medium")]),
        ("vpn detached", lambda r, _: r.ec2.detach_vpn_gateway(VpcId=r.ids["vpc-0c1b0c0ffee000001"], VpnGatewayId=r.ids["vgw-0c1b0c0ffee000001"]),
         [("Modified", "aws_vpn_gateway", "vgw-0c1b0c0ffee000001", [("vpc_id", "vpc-0c1b0c0ffee000001", None)], "Medium")]),
        ("endpoint made", lambda r, _: r.ec2.create_vpc_endpoint(VpcId=r.ids["vpc-0c1b0c0ffee000001"], ServiceName="com.amazonaws.eu-west-1.dynamodb"),
         [("Unmanaged", "aws_vpc_endpoint", ANY, [], "Medium")]),
        # moto has no call that changes a flow log or a customer gateway in place (AWS
        # has none either): each is deleted, or made anew in the console.
        ("flow log deleted", lambda r, _: r.ec2.delete_flow_logs(FlowLogIds=[r.ids["fl-0c1b0c0ffee000001"]]),
         [("Missing", "aws_flow_log", "fl-0c1b0c0ffee000001", [], "High")]),
        ("flow log tag", lambda r, _: r.ec2.create_tags(Resources=[r.ids["fl-0c1b0c0ffee000001"]], Tags=[{"Key": "Name", "Value": "off"}]),
         [("Modified", "aws_flow_log", "fl-0c1b0c0ffee000001", [("tags.Name", "rejects", "off")], "Low")]),
        ("gateway tag", lambda r, _: r.ec2.create_tags(Resources=[r.ids["cgw-0c1b0c0ffee000001"]], Tags=[{"Key": "ManagedBy", "Value": "console"}]),
         [("Modified", "aws_customer_gateway", "cgw-0c1b0c0ffee000001", [("tags.ManagedBy", "terraform", "console")], "Low")]),
        ("gateway made", lambda r, _: r.ec2.create_customer_gateway(Type="ipsec.1", BgpAsn=65001, PublicIp="198.51.100.7"),
         [("Unmanaged", "aws_customer_gateway", ANY, [], "Medium")]),
        ("peering deleted", lambda r, _: r.ec2.delete_vpc_peering_connection(VpcPeeringConnectionId=r.ids["pcx-0c1b0c0ffee000001"]),
         [("Missing", "aws_vpc_peering_connection", "pcx-0c1b0c0ffee000001", [], "High")]),
        ("peering made", lambda r, _: r.ec2.create_vpc_peering_connection(VpcId=r.ids["vpc-0c1b0c0ffee000001"], PeerVpcId=r.ids["vpc-0c1b0c0ffee0000ff"]),
         [("Unmanaged", "aws_vpc_peering_connection", ANY, [], "Medium")]),
    ]),
    # The instance's id is its resource id (provider v5); discovery knows it by its
    # identifier, which the state also records.
    "rds-stack": ("orders", [
        ("cluster unprotected", lambda r, _: r.rds.modify_db_cluster(DBClusterIdentifier="ledger", DeletionProtection=False, ApplyImmediately=True),
         [("Modified", "aws_rds_cluster", "ledger", [("deletion_protection", True, False)], "High")]),
        ("cluster backups shortened", lambda r, _: r.rds.modify_db_cluster(DBClusterIdentifier="ledger", BackupRetentionPeriod=1, ApplyImmediately=True),
         [("Modified", "aws_rds_cluster", "ledger", [("backup_retention_period", 14, 1)], "High")]),
        ("member made public", lambda r, _: r.rds.modify_db_instance(DBInstanceIdentifier="ledger-1", PubliclyAccessible=True, ApplyImmediately=True),
         [("Modified", "aws_rds_cluster_instance", "ledger-1", [("publicly_accessible", False, True)], "Critical")]),
        ("member resized", lambda r, _: r.rds.modify_db_instance(DBInstanceIdentifier="ledger-1", DBInstanceClass="db.r6g.xlarge", ApplyImmediately=True),
         [("Modified", "aws_rds_cluster_instance", "ledger-1", [("instance_class", "db.r6g.large", "db.r6g.xlarge")], "Medium")]),
        ("member added", lambda r, _: r.rds.create_db_instance(DBInstanceIdentifier="ledger-2", DBClusterIdentifier="ledger",
                                                               DBInstanceClass="db.r6g.large", Engine="aurora-postgresql"),
         [("Unmanaged", "aws_rds_cluster_instance", "ledger-2", [], "Medium")]),
        ("backups shortened", lambda r, db: r.rds.modify_db_instance(DBInstanceIdentifier=db, BackupRetentionPeriod=1, ApplyImmediately=True),
         [("Modified", "aws_db_instance", ORDERS_DB, [("backup_retention_period", 7, 1)], "High")]),
        ("made public", lambda r, db: r.rds.modify_db_instance(DBInstanceIdentifier=db, PubliclyAccessible=True, ApplyImmediately=True),
         [("Modified", "aws_db_instance", ORDERS_DB, [("publicly_accessible", False, True)], "Critical")]),
        ("iam auth off", lambda r, db: r.rds.modify_db_instance(DBInstanceIdentifier=db, EnableIAMDatabaseAuthentication=False, ApplyImmediately=True),
         [("Modified", "aws_db_instance", ORDERS_DB, [("iam_database_authentication_enabled", True, False)], "High")]),
        ("storage grown", lambda r, db: r.rds.modify_db_instance(DBInstanceIdentifier=db, AllocatedStorage=100, ApplyImmediately=True),
         [("Modified", "aws_db_instance", ORDERS_DB, [("allocated_storage", 50, 100)], "Medium")]),
        ("ssl not forced", lambda r, _: r.rds.modify_db_parameter_group(DBParameterGroupName="orders-pg16", Parameters=[
            {"ParameterName": "rds.force_ssl", "ParameterValue": "0", "ApplyMethod": "pending-reboot"}]),
         [("Modified", "aws_db_parameter_group", "orders-pg16", [("parameter", "rds.force_ssl=1", None), ("parameter", None, "rds.force_ssl=0")], "High")]),
        ("parameter added", lambda r, _: r.rds.modify_db_parameter_group(DBParameterGroupName="orders-pg16", Parameters=[
            {"ParameterName": "log_statement", "ParameterValue": "all", "ApplyMethod": "immediate"}]),
         [("Modified", "aws_db_parameter_group", "orders-pg16", [("parameter", None, "log_statement=all")], "High")]),
        ("subnet group description", lambda r, _: modify_subnet_group(r, "orders", "edited", [r.ids[x] for x in ORDERS_SUBNETS]),
         [("Modified", "aws_db_subnet_group", "orders", [("description", "Orders database subnets", "edited")], "Medium")]),
        ("deleted", delete_protected_instance,
         [("Missing", "aws_db_instance", ORDERS_DB, [], "High")]),
    ]),
    "elb-stack": (WEB_LB, [
        # A rule widened to every path: all requests now reach the API's targets.
        ("rule widened", lambda r, _: r.elb.modify_rule(RuleArn=r.ids[API_RULE], Conditions=[
            {"Field": "path-pattern", "PathPatternConfig": {"Values": ["/*"]}},
            {"Field": "http-request-method", "HttpRequestMethodConfig": {"Values": ["GET", "POST"]}}]),
         [("Modified", "aws_lb_listener_rule", API_RULE, [("condition", "path_pattern /api/*", None), ("condition", None, "path_pattern /*")], "High")]),
        ("rule reordered", lambda r, _: r.elb.set_rule_priorities(RulePriorities=[{"RuleArn": r.ids[API_RULE], "Priority": 20}]),
         [("Modified", "aws_lb_listener_rule", API_RULE, [("priority", 10, 20)], "Medium")]),
        ("rule deleted", lambda r, _: r.elb.delete_rule(RuleArn=r.ids[API_RULE]),
         [("Missing", "aws_lb_listener_rule", API_RULE, [], "High")]),
        ("rule made", lambda r, _: r.elb.create_rule(ListenerArn=r.ids[API_LISTENER], Priority=5, Conditions=[
            {"Field": "host-header", "HostHeaderConfig": {"Values": ["admin.example.com"]}}],
            Actions=[{"Type": "forward", "TargetGroupArn": r.ids[API_TG]}]),
         [("Unmanaged", "aws_lb_listener_rule", ANY, [], "Medium")]),
        ("protection off", lambda r, lb: r.elb.modify_load_balancer_attributes(
            LoadBalancerArn=lb, Attributes=[{"Key": "deletion_protection.enabled", "Value": "false"}]),
         [("Modified", "aws_lb", None, [("enable_deletion_protection", True, False)], "High")]),
        ("invalid headers passed", lambda r, lb: r.elb.modify_load_balancer_attributes(
            LoadBalancerArn=lb, Attributes=[{"Key": "routing.http.drop_invalid_header_fields.enabled", "Value": "false"}]),
         [("Modified", "aws_lb", None, [("drop_invalid_header_fields", True, False)], "Medium")]),
        # HTTP no longer sent to HTTPS: the listener serves the API in clear text.
        ("redirect replaced", lambda r, _: r.elb.modify_listener(ListenerArn=r.ids[HTTP_LISTENER], DefaultActions=[
            {"Type": "forward", "TargetGroupArn": r.ids[API_TG]}]),
         [("Modified", "aws_lb_listener", HTTP_LISTENER, [
             ("default_action", "redirect HTTP_301 HTTPS://#{host}:443/#{path}?#{query}", None),
             ("default_action", None, f"forward {API_TG}")], "High")]),
        # AWS deletes a listener's rules with it (moto too): each is reported missing.
        ("listener deleted", lambda r, _: r.elb.delete_listener(ListenerArn=r.ids[API_LISTENER]),
         [("Missing", "aws_lb_listener", API_LISTENER, [], "High"),
          ("Missing", "aws_lb_listener_rule", API_RULE, [], "High")]),
        ("target deregistered", lambda r, _: r.elb.deregister_targets(TargetGroupArn=r.ids[API_TG], Targets=[{"Id": "10.100.2.10", "Port": 8080}]),
         [("Missing", "aws_lb_target_group_attachment", f"{API_TG}-20250302101113000000000002", [], "High")]),
        ("target registered", lambda r, _: r.elb.register_targets(TargetGroupArn=r.ids[API_TG], Targets=[{"Id": "10.100.3.10", "Port": 8080}]),
         [("Modified", "aws_lb_target_group", API_TG, [("targets", None, "10.100.3.10")], "High")]),
        ("health check", lambda r, _: r.elb.modify_target_group(TargetGroupArn=r.ids[API_TG], HealthCheckIntervalSeconds=300),
         [("Modified", "aws_lb_target_group", API_TG, [("health_check", API_CHECK, None),
                                                         ("health_check", None, API_CHECK.replace("15s", "300s"))], "Medium")]),
        ("default tag", lambda r, lb: r.elb.add_tags(ResourceArns=[lb], Tags=[{"Key": "ManagedBy", "Value": "console"}]),
         [("Modified", "aws_lb", None, [("tags.ManagedBy", "terraform", "console")], "Low")]),
    ]),
    "lambda-stack": ("orders", [
        # The alias moved to unpublished code (publishing again would give version 1 back:
        # AWS, like moto, publishes a new version only when the function changed).
        ("alias moved", lambda r, f: r.lambda_.update_alias(FunctionName=f, Name="live", FunctionVersion="$LATEST"),
         [("Modified", "aws_lambda_alias", "arn:aws:lambda:eu-west-1:123456789012:function:orders:live", [("function_version", "1", "$LATEST")], "High")]),
        ("alias made", lambda r, f: r.lambda_.create_alias(FunctionName=f, Name="console", FunctionVersion="$LATEST"),
         [("Unmanaged", "aws_lambda_alias", "arn:aws:lambda:eu-west-1:123456789012:function:orders:console", [], "Medium")]),
        ("mapping disabled", lambda r, _: r.lambda_.update_event_source_mapping(UUID=r.ids["0b5c0ffe-e000-4000-8000-000000000001"], Enabled=False),
         [("Modified", "aws_lambda_event_source_mapping", "0b5c0ffe-e000-4000-8000-000000000001", [("enabled", True, False)], "High")]),
        ("mapping batch", lambda r, _: r.lambda_.update_event_source_mapping(UUID=r.ids["0b5c0ffe-e000-4000-8000-000000000001"], BatchSize=100),
         [("Modified", "aws_lambda_event_source_mapping", "0b5c0ffe-e000-4000-8000-000000000001", [("batch_size", 10, 100)], "Medium")]),
        ("memory", lambda r, f: r.lambda_.update_function_configuration(FunctionName=f, MemorySize=1024),
         [("Modified", "aws_lambda_function", None, [("memory_size", 256, 1024)], "Medium")]),
        ("timeout", lambda r, f: r.lambda_.update_function_configuration(FunctionName=f, Timeout=900),
         [("Modified", "aws_lambda_function", None, [("timeout", 10, 900)], "Medium")]),
        # Tracing is not perturbed: moto's UpdateFunctionConfiguration ignores
        # TracingConfig (AWS applies it; GetFunction then reports the new mode). The state
        # records `Active` and moto keeps it, so the in-sync check covers the mapping.
        # A value changed in the console is reported by digest: neither value appears.
        ("secret changed", lambda r, f: r.lambda_.update_function_configuration(FunctionName=f, Environment={
            "Variables": {"DB_PASSWORD": "console-typed-secret", "MODE": "prod"}}),
         [("Modified", "aws_lambda_function", None, [
             ("environment", env_entry("DB_PASSWORD", "correct-horse-battery-staple"), None),
             ("environment", None, env_entry("DB_PASSWORD", "console-typed-secret"))], "Medium")]),
        ("role swapped", swap_role,
         [("Modified", "aws_lambda_function", None, [("role", ORDERS_ROLE, "arn:aws:iam::123456789012:role/console-admin")], "High"),
          ("Unmanaged", "aws_iam_role", "console-admin", [], "Medium")]),
        ("code replaced", new_code,
         [("Modified", "aws_lambda_function", None, [("code_sha256", ORDERS_CODE, PWNED_CODE)], "High")]),
        ("concurrency reserved", lambda r, f: r.lambda_.put_function_concurrency(FunctionName=f, ReservedConcurrentExecutions=5),
         [("Modified", "aws_lambda_function", None, [("reserved_concurrent_executions", -1, 5)], "Medium")]),
        ("default tag", lambda r, f: r.lambda_.tag_resource(Resource=f"arn:aws:lambda:eu-west-1:123456789012:function:{f}", Tags={"ManagedBy": "console"}),
         [("Modified", "aws_lambda_function", None, [("tags.ManagedBy", "terraform", "console")], "Low")]),
        # A statement added in the console that lets anyone invoke the function.
        ("public permission", lambda r, f: r.lambda_.add_permission(
            FunctionName=f, StatementId="console", Action="lambda:InvokeFunction", Principal="*"),
         [("Modified", "aws_lambda_function", None, [("permissions", None, "console lambda:InvokeFunction by *")], "Critical")]),
        ("permission removed", lambda r, f: r.lambda_.remove_permission(FunctionName=f, StatementId="AllowS3Invoke"),
         [("Missing", "aws_lambda_permission", "AllowS3Invoke", [], "High")]),
        ("log retention", lambda r, _: r.logs.put_retention_policy(logGroupName="/app/orders/audit", retentionInDays=1),
         [("Modified", "aws_cloudwatch_log_group", "/app/orders/audit", [("retention_in_days", 0, 1)], "Medium")]),
        ("log retention removed", lambda r, _: r.logs.delete_retention_policy(logGroupName="/aws/lambda/orders"),
         [("Modified", "aws_cloudwatch_log_group", "/aws/lambda/orders", [("retention_in_days", 14, 0)], "Medium")]),
        # Lambda makes `/aws/lambda/<function>` for a function's output: part of it.
        ("function made", console_function,
         [("Unmanaged", "aws_lambda_function", "console-fn", [], "Medium")]),
        ("log group made", lambda r, _: r.logs.create_log_group(logGroupName="/app/console"),
         [("Unmanaged", "aws_cloudwatch_log_group", "/app/console", [], "Medium")]),
    ]),
    "s3-stack": ("app-assets", [
        ("retention shortened", lambda r, _: r.s3.put_bucket_lifecycle_configuration(Bucket="app-logs", LifecycleConfiguration={"Rules": [
            {"ID": "expire-logs", "Status": "Enabled", "Filter": {"Prefix": "logs/"}, "Expiration": {"Days": 1},
             "Transitions": [{"Days": 30, "StorageClass": "STANDARD_IA"}], "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7}}]}),
         [("Modified", "aws_s3_bucket_lifecycle_configuration", "app-logs", [
             ("rule", "expire-logs Enabled prefix=logs/ expire=90d transition=30d:STANDARD_IA abort_uploads=7d", None),
             ("rule", None, "expire-logs Enabled prefix=logs/ expire=1d transition=30d:STANDARD_IA abort_uploads=7d")], "High")]),
        ("lifecycle removed", lambda r, _: r.s3.delete_bucket_lifecycle(Bucket="app-logs"),
         [("Missing", "aws_s3_bucket_lifecycle_configuration", "app-logs", [], "High")]),
        ("logging off", lambda r, b: r.s3.put_bucket_logging(Bucket=b, BucketLoggingStatus={}),
         [("Missing", "aws_s3_bucket_logging", "app-assets", [], "High")]),
        ("logs sent elsewhere", lambda r, b: r.s3.put_bucket_logging(Bucket=b, BucketLoggingStatus={"LoggingEnabled": {"TargetBucket": "app-logs", "TargetPrefix": "x/"}}),
         [("Modified", "aws_s3_bucket_logging", "app-assets", [("target_prefix", "assets/", "x/")], "Medium")]),
        ("cors opened", lambda r, b: r.s3.put_bucket_cors(Bucket=b, CORSConfiguration={"CORSRules": [
            {"AllowedMethods": ["GET", "HEAD", "PUT"], "AllowedOrigins": ["*"], "AllowedHeaders": ["Authorization"], "ExposeHeaders": ["ETag"], "ID": "shop", "MaxAgeSeconds": 3000}]}),
         [("Modified", "aws_s3_bucket_cors_configuration", "app-assets", [
             ("cors_rule", "GET,HEAD from https://shop.example.com headers=Authorization expose=ETag max_age=3000", None),
             ("cors_rule", None, "GET,HEAD,PUT from * headers=Authorization expose=ETag max_age=3000")], "High")]),
        ("cors removed", lambda r, b: r.s3.delete_bucket_cors(Bucket=b),
         [("Missing", "aws_s3_bucket_cors_configuration", "app-assets", [], "High")]),
        # A policy made in the console on a bucket whose state records none: the bucket drifted.
        ("public policy on the logs", lambda r, _: r.s3.put_bucket_policy(Bucket="app-logs", Policy=LOGS_PUBLIC),
         [("Modified", "aws_s3_bucket", "app-logs", [("policy", None, LOGS_PUBLIC_CANONICAL)], "Critical")]),
        ("encryption to SSE-S3", lambda r, b: r.s3.put_bucket_encryption(Bucket=b, ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}, "BucketKeyEnabled": False}]}),
         [("Modified", "aws_s3_bucket_server_side_encryption_configuration", None,
           [("rule", f"aws:kms key={S3_KEY} bucket_key=true", None), ("rule", None, "AES256 key= bucket_key=false")], "High")]),
        ("ownership", lambda r, b: r.s3.put_bucket_ownership_controls(Bucket=b, OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]}),
         [("Modified", "aws_s3_bucket_ownership_controls", None,
           [("rule", "BucketOwnerPreferred", None), ("rule", None, "ObjectWriter")], "Medium")]),
        ("public access allowed", lambda r, b: r.s3.put_public_access_block(Bucket=b, PublicAccessBlockConfiguration={
            "BlockPublicAcls": True, "BlockPublicPolicy": False, "IgnorePublicAcls": True, "RestrictPublicBuckets": True}),
         [("Modified", "aws_s3_bucket_public_access_block", None, [("block_public_policy", True, False)], "Critical")]),
        # What AWS gives every new bucket since 2023, on a bucket whose state manages none
        # of it: defaults, not unmanaged settings.
        ("new-bucket defaults", s3_defaults, []),
        ("made public by ACL", lambda r, b: r.s3.put_bucket_acl(Bucket=b, ACL="public-read"),
         [("Modified", "aws_s3_bucket_acl", "app-assets,private", [("access_control_policy", None, "http://acs.amazonaws.com/groups/global/AllUsers READ")], "Critical")]),
        ("website redirected", lambda r, b: r.s3.put_bucket_website(Bucket=b, WebsiteConfiguration={
            "RedirectAllRequestsTo": {"HostName": "evil.example.com", "Protocol": "https"}}),
         [("Modified", "aws_s3_bucket_website_configuration", None, [("index_document", "index.html", None), ("error_document", "error.html", None),
                                                                    ("redirect_all_requests_to", None, "https://evil.example.com")], "High")]),
        ("website removed", lambda r, b: r.s3.delete_bucket_website(Bucket=b),
         [("Missing", "aws_s3_bucket_website_configuration", None, [], "High")]),
        ("default tag", lambda r, b: r.s3.put_bucket_tagging(Bucket=b, Tagging={"TagSet": [
            {"Key": "Name", "Value": "assets"}, {"Key": "ManagedBy", "Value": "console"}]}),
         [("Modified", "aws_s3_bucket", None, [("tags.ManagedBy", "terraform", "console")], "Low")]),
    ]),
    "iam-stack": ("app", [
        # The role records every attached policy; one attached in the console shows there.
        ("policy attached", lambda r, role: r.iam.attach_role_policy(RoleName=role, PolicyArn=ADMIN),
         [("Modified", "aws_iam_role", None, [("managed_policy_arns", None, ADMIN)], "High")]),
        ("policy detached", lambda r, role: r.iam.detach_role_policy(RoleName=role, PolicyArn=SSM_CORE),
         [("Missing", "aws_iam_role_policy_attachment", "app-20250302101113000000000002", [], "High")]),
        # A provider default tag (only in tags_all) changed in the console.
        ("default tag", lambda r, role: r.iam.tag_role(RoleName=role, Tags=[{"Key": "ManagedBy", "Value": "console"}]),
         [("Modified", "aws_iam_role", None, [("tags.ManagedBy", "terraform", "console")], "Low")]),
        # moto's UpdateRole clears the description when the call does not repeat it (AWS
        # keeps it), so the call repeats it.
        ("session", lambda r, role: r.iam.update_role(RoleName=role, Description="The app's instances", MaxSessionDuration=3600),
         [("Modified", "aws_iam_role", None, [("max_session_duration", 7200, 3600)], "Medium")]),
        ("profile role swapped", lambda r, _: swap_profile_role(r, "app"),
         [("Modified", "aws_iam_instance_profile", "app", [("role", "app", "console-role")], "High"),
          ("Unmanaged", "aws_iam_role", "console-role", [], "Medium")]),
        # moto answers AddClientIDToOpenIDConnectProvider with a 500 (AWS adds the
        # audience); the provider is made again with the extra audience instead, which
        # ends in the same state (same URL, same ARN).
        ("OIDC audience added", oidc_with_extra_audience,
         [("Modified", "aws_iam_openid_connect_provider", GITHUB_OIDC,
           [("client_id_list", ["sts.amazonaws.com"], ["evil.example.com", "sts.amazonaws.com"])], "High")]),
        ("OIDC thumbprint", lambda r, _: r.iam.update_open_id_connect_provider_thumbprint(
            OpenIDConnectProviderArn=GITHUB_OIDC, ThumbprintList=["1c58a3a8518e8759bf075b76b750d4f2df264fcd"]),
         [("Modified", "aws_iam_openid_connect_provider", GITHUB_OIDC,
           [("thumbprint_list", ["6938fd4d98bab03faadb97b34396831e3780aea1"], ["1c58a3a8518e8759bf075b76b750d4f2df264fcd"])], "Medium")]),
        # Group membership is exclusive: a user added in the console shows, one removed too.
        ("user added to group", lambda r, _: add_user(r, "mallory", "developers"),
         [("Modified", "aws_iam_group_membership", "developers-members", [("users", ["alice"], ["alice", "mallory"])], "High"),
          ("Unmanaged", "aws_iam_user", "mallory", [], "Medium")]),
        ("user removed from group", lambda r, _: r.iam.remove_user_from_group(GroupName="developers", UserName="alice"),
         [("Missing", "aws_iam_group_membership", "developers-members", [], "High")]),
        # A policy attachment is exclusive too: the policy attached to one more principal.
        ("policy attached to a role", lambda r, role: r.iam.attach_role_policy(RoleName=role, PolicyArn=READ_ONLY),
         [("Modified", "aws_iam_policy_attachment", "read-only", [("roles", [], ["app"])], "High"),
          ("Modified", "aws_iam_role", None, [("managed_policy_arns", None, READ_ONLY)], "High")]),
        ("policy detached from a user", lambda r, _: r.iam.detach_user_policy(UserName="bob", PolicyArn=READ_ONLY),
         [("Modified", "aws_iam_policy_attachment", "read-only", [("users", ["bob"], [])], "High")]),
        # AWS makes service-linked roles when a service needs one: never unmanaged.
        ("service made a role", lambda r, _: r.iam.create_service_linked_role(AWSServiceName="autoscaling.amazonaws.com"), []),
        ("policy widened", lambda r, _: r.iam.create_policy_version(PolicyArn=r.ids.get(APP_DATA, APP_DATA), PolicyDocument=ALLOW_ALL, SetAsDefault=True),
         [("Modified", "aws_iam_policy", APP_DATA, [("policy", APP_DATA_CANONICAL, ALLOW_ALL_CANONICAL)], "Critical")]),
    ]),
    "network-stack": ("sg-0a11c0ffee0000001", [
        ("sgr rule revoked", revoke_sgr,
         [("Missing", "aws_vpc_security_group_ingress_rule", "sgr-0a11c0ffee0000001", [], "High")]),
        ("volume detached", lambda r, _: detach_volume(r, r.ids["vol-0a11c0ffee0000001"]),
         [("Missing", "aws_volume_attachment", "vai-1234567890", [], "High")]),
        ("main association moved", lambda r, _: r.ec2.replace_route_table_association(
            AssociationId=main_association(r), RouteTableId=r.ids["rtb-0a11c0ffee0000002"]),
         [("Missing", "aws_main_route_table_association", "rtbassoc-0a11c0ffee0000001", [], "High")]),
        ("gp3 iops", lambda r, _: r.ec2.modify_volume(VolumeId=r.ids["vol-0a11c0ffee0000001"], Iops=4000),
         [("Modified", "aws_ebs_volume", "vol-0a11c0ffee0000001", [("iops", 3000, 4000)], "Medium")]),
        ("gp3 throughput", lambda r, _: r.ec2.modify_volume(VolumeId=r.ids["vol-0a11c0ffee0000001"], Throughput=250),
         [("Modified", "aws_ebs_volume", "vol-0a11c0ffee0000001", [("throughput", 125, 250)], "Medium")]),
        ("rule description", lambda r, g: r.ec2.modify_security_group_rules(GroupId=g, SecurityGroupRules=[{
            "SecurityGroupRuleId": r.ids["sgr-0a11c0ffee0000001"],
            "SecurityGroupRule": {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIpv4": "10.0.0.0/8",
                                  "Description": "edited in the console"}}]),
         [("Modified", "aws_vpc_security_group_ingress_rule", "sgr-0a11c0ffee0000001",
           [("description", "https from the office", "edited in the console")], "Medium")]),
        ("nat route deleted", lambda r, _: r.ec2.delete_route(
            RouteTableId=r.ids["rtb-0a11c0ffee0000001"], DestinationCidrBlock="0.0.0.0/0"),
         [("Modified", "aws_route_table", "rtb-0a11c0ffee0000001", [("route", "0.0.0.0/0 -> nat-0a11c0ffee0000001", None)], "High")]),
    ]),
}


def main_association(r):
    vpc = r.ids["vpc-0a11c0ffee0000001"]
    tables = r.ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["RouteTables"]
    return next(a["RouteTableAssociationId"] for t in tables for a in t.get("Associations", []) if a.get("Main"))


if __name__ == "__main__":
    main()
