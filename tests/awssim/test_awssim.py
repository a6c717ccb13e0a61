#!/usr/bin/env python3
"""awssim conformance: cbq-awssim checked with boto3/botocore, the real AWS SDK.

botocore builds, signs and parses every request here, so this checks the
emulator's wire format (query-protocol XML for EC2 and STS, REST-JSON for
RAM, JSON 1.1 for Organizations, IMDSv2) independently of cbq's own C code.
botocore signs with the emulator's simulated clock (patched in), as cbqd
does with the same --clock.

usage: test_awssim.py path/to/cbq-awssim
Exit 0 when every check passed (or boto3 is missing: then it says skipped).
"""
import datetime
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

try:
    import boto3
    import botocore
    import botocore.auth
    import botocore.utils
    from botocore.awsrequest import AWSRequest
    from botocore.config import Config
    from botocore.credentials import Credentials
    from botocore.exceptions import ClientError
except Exception:  # noqa: BLE001 - any import problem means: no SDK here
    print("awssim conformance: boto3 not available, skipped")
    sys.exit(0)

HERE = os.path.dirname(os.path.abspath(__file__))
BASIC = os.path.join(HERE, "scenarios", "basic.json")
REGION = "us-east-1"
BROKER = ("AKIACBQBROKER0000001", "cbqBrokerSecretKey000000000000000000000001")
ALICE = ("AKIACBQALICE00000001", "cbqAliceSecretKey0000000000000000000000001")
MALLORY = ("AKIACBQMALLORY000001", "cbqMallorySecretKey00000000000000000000001")
BLOCK1, BLOCK2, BLOCK3 = "cr-0a0000000000000001", "cr-0b0000000000000002", "cr-0c0000000000000003"
AMI = "ami-0123456789abcdef0"

PASSED, FAILED = [], []
SESSION = None  # one boto3 session, so service models load once
_real_datetime = botocore.auth.get_current_datetime
ACTIVE = None  # the Sim whose clock botocore signs with


def check(name, cond, detail=""):
    (PASSED if cond else FAILED).append(name)
    if not cond:
        print(f"FAIL {name} {detail}", flush=True)


def expect_error(name, fn, code, status=None):
    """Runs fn, which must raise ClientError with code (and HTTP status)."""
    try:
        fn()
    except ClientError as e:
        got = e.response["Error"].get("Code")
        st = e.response["ResponseMetadata"].get("HTTPStatusCode")
        ok = got == code and (status is None or st == status)
        check(name, ok, f"got {got} {st}, want {code} {status}: {e}")
        return e
    except Exception as e:  # noqa: BLE001
        check(name, False, f"raised {type(e).__name__}: {e}")
        return None
    check(name, False, f"no error, want {code}")
    return None


class Sim:
    """One cbq-awssim process on a free port with a known scaled clock."""

    def __init__(self, binary, scenario, factor, epoch):
        self.factor, self.epoch = factor, epoch
        # A whole second in the future, so sim(t) = epoch + (t - origin) * factor exactly.
        self.origin = int(time.time()) + 1
        self.log = tempfile.NamedTemporaryFile(prefix="awssim-", suffix=".log", delete=False)
        self.proc = subprocess.Popen(
            [binary, "--listen", "127.0.0.1:0", "--scenario", scenario,
             "--clock", f"scaled:{factor},origin={self.origin}"],
            stdout=subprocess.PIPE, stderr=self.log, text=True)
        line = self.proc.stdout.readline()
        if "listening on" not in line:
            raise RuntimeError(f"cbq-awssim did not start: {line!r}, log {self.log.name}")
        self.port = int(line.rsplit(":", 1)[1])
        self.url = f"http://127.0.0.1:{self.port}"
        while time.time() < self.origin:
            time.sleep(0.01)

    def now(self):
        return self.epoch + datetime.timedelta(seconds=(time.time() - self.origin) * self.factor)

    def wait_until(self, sim_dt):
        delay = (sim_dt - self.now()).total_seconds() / self.factor
        if delay > 0:
            time.sleep(delay)

    def http(self, method, path, body=None, headers=None):
        data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=5) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def control(self, method, path, body=None):
        status, text = self.http(method, path, body)
        return status, json.loads(text)

    def fault(self, **kw):
        status, doc = self.control("POST", "/_sim/fault", kw)
        assert status == 200, doc

    def state(self):
        return self.control("GET", "/_sim/state")[1]

    def client(self, service, keys, token=None, region=REGION, **cfg):
        cfg.setdefault("retries", {"total_max_attempts": 1})
        return SESSION.client(service, region_name=region, endpoint_url=self.url,
                              aws_access_key_id=keys[0], aws_secret_access_key=keys[1],
                              aws_session_token=token, config=Config(**cfg))

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        check("sim exits 0 on SIGTERM", self.proc.returncode == 0, f"rc={self.proc.returncode}")
        if FAILED or os.environ.get("AWSSIM_KEEP_LOGS"):
            print(f"(cbq-awssim log: {self.log.name})")
        else:
            os.unlink(self.log.name)


def sim_datetime(remove_tzinfo=True):
    d = ACTIVE.now() if ACTIVE else _real_datetime()
    return d if remove_tzinfo else d.replace(tzinfo=datetime.timezone.utc)


botocore.auth.get_current_datetime = sim_datetime


def assume(sim, account, ext, name="lease-1", duration=None):
    sts = sim.client("sts", BROKER)
    kw = {"RoleArn": f"arn:aws:iam::{account}:role/cbq-launcher", "RoleSessionName": name,
          "ExternalId": ext}
    if duration:
        kw["DurationSeconds"] = duration
    c = sts.assume_role(**kw)["Credentials"]
    return (c["AccessKeyId"], c["SecretAccessKey"]), c["SessionToken"], c


def run(ec2, block, token, count=1, min_count=None, tags=None, **extra):
    kw = dict(ImageId=AMI, InstanceType=extra.pop("InstanceType", "p5.48xlarge"),
              MinCount=min_count or count, MaxCount=count, ClientToken=token,
              InstanceMarketOptions={"MarketType": "capacity-block"},
              CapacityReservationSpecification={
                  "CapacityReservationTarget": {"CapacityReservationId": block}})
    if tags:
        kw["TagSpecifications"] = [{"ResourceType": "instance",
                                    "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}]
    kw.update(extra)
    return ec2.run_instances(**kw)


def signed_raw(sim, service, body, keys=BROKER, method="POST", query=""):
    """A hand-built request signed by botocore (for what boto3 will not send)."""
    url = sim.url + "/" + (("?" + query) if query else "")
    req = AWSRequest(method=method, url=url, data=body.encode() if method == "POST" else None,
                     headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
                     if method == "POST" else {})
    botocore.auth.SigV4Auth(Credentials(*keys), service, REGION).add_auth(req)
    p = req.prepare()
    r = urllib.request.Request(p.url, data=p.body if method == "POST" else None,
                               method=method, headers=dict(p.headers))
    try:
        with urllib.request.urlopen(r, timeout=5) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def test_sts(sim):
    sts = sim.client("sts", BROKER)
    me = sts.get_caller_identity()
    check("GetCallerIdentity user", me["Account"] == "999900000000" and
          me["Arn"] == "arn:aws:iam::999900000000:user/cbq-broker" and
          me["UserId"].startswith("AIDA"), me)
    keys, token, cred = assume(sim, "111100000001", "ext-1")
    check("AssumeRole gives ASIA keys", keys[0].startswith("ASIA") and len(token) > 100)
    exp = cred["Expiration"].replace(tzinfo=None)
    left = (exp - sim.now()).total_seconds()
    check("AssumeRole expiration is now + 3600 s in sim time", 3500 < left <= 3600, left)
    who = sim.client("sts", keys, token).get_caller_identity()
    check("GetCallerIdentity assumed role",
          who["Arn"] == "arn:aws:sts::111100000001:assumed-role/cbq-launcher/lease-1" and
          who["Account"] == "111100000001" and who["UserId"].endswith(":lease-1"), who)
    role = "arn:aws:iam::111100000001:role/cbq-launcher"
    expect_error("AssumeRole wrong external id", lambda: sts.assume_role(
        RoleArn=role, RoleSessionName="x1", ExternalId="ext-2"), "AccessDenied", 403)
    expect_error("AssumeRole without external id", lambda: sts.assume_role(
        RoleArn=role, RoleSessionName="x1"), "AccessDenied", 403)
    expect_error("AssumeRole untrusted principal", lambda: sim.client("sts", ALICE).assume_role(
        RoleArn=role, RoleSessionName="x1", ExternalId="ext-1"), "AccessDenied", 403)
    expect_error("AssumeRole unknown role", lambda: sts.assume_role(
        RoleArn="arn:aws:iam::111100000001:role/nope", RoleSessionName="x1", ExternalId="ext-1"),
        "AccessDenied", 403)
    expect_error("AssumeRole duration over 12 h", lambda: sts.assume_role(
        RoleArn=role, RoleSessionName="x1", ExternalId="ext-1", DurationSeconds=50000),
        "ValidationError", 400)
    expect_error("AssumeRole by a session the role does not trust",
                 lambda: sim.client("sts", keys, token)
                 .assume_role(RoleArn="arn:aws:iam::999900000000:role/cbq-inventory",
                              RoleSessionName="x2", ExternalId="ext-platform",
                              DurationSeconds=7200), "AccessDenied", 403)
    expect_error("STS wrong secret", lambda: sim.client(
        "sts", (BROKER[0], "wrong" + BROKER[1][5:])).get_caller_identity(),
        "SignatureDoesNotMatch", 403)
    expect_error("STS unknown key", lambda: sim.client(
        "sts", ("AKIANOTAKNOWNKEY0000", "x" * 40)).get_caller_identity(),
        "InvalidClientTokenId", 403)
    expect_error("STS session key with a wrong token", lambda: sim.client(
        "sts", keys, token[:-4] + "AAAA").get_caller_identity(), "InvalidClientTokenId", 403)
    expect_error("EC2 session key without a token", lambda: sim.client(
        "ec2", keys).describe_capacity_reservations(), "AuthFailure", 401)
    expect_error("EC2 wrong secret", lambda: sim.client(
        "ec2", (BROKER[0], "wrong" + BROKER[1][5:])).describe_capacity_reservations(),
        "AuthFailure", 401)
    # Signed with the wall clock, not the simulated one: months off.
    global ACTIVE
    ACTIVE = None
    try:
        expect_error("EC2 clock skew", lambda: sim.client("ec2", BROKER)
                     .describe_capacity_reservations(), "RequestExpired", 400)
        e = expect_error("STS clock skew", lambda: sim.client("sts", BROKER)
                         .get_caller_identity(), "SignatureDoesNotMatch", 403)
        check("STS clock skew says Signature expired",
              e is not None and "Signature" in e.response["Error"]["Message"])
    finally:
        ACTIVE = sim
    wrong_region = sim.client("ec2", BROKER, region="eu-west-1")
    expect_error("EC2 wrong region in scope", wrong_region.describe_capacity_reservations,
                 "AuthFailure", 401)
    status, text = signed_raw(sim, "ec2", "Action=CreateTags&Version=2016-11-15")
    check("EC2 unknown action is InvalidAction", status == 400 and "InvalidAction" in text, text)
    status, text = signed_raw(sim, "sts", "Action=GetSessionToken&Version=2011-06-15")
    check("STS unknown action is InvalidAction in ErrorResponse",
          status == 400 and "<ErrorResponse" in text and "InvalidAction" in text, text)
    status, text = signed_raw(sim, "sts", None, method="GET",
                              query="Action=GetCallerIdentity&Version=2011-06-15")
    check("STS GET with query string", status == 200 and "999900000000" in text, text)
    status, text = sim.http("POST", "/", b"Action=DescribeInstances&Version=2016-11-15",
                            {"Content-Type": "application/x-www-form-urlencoded"})
    check("EC2 without a signature", status == 401 and "MissingAuthenticationToken" in text, text)


def test_reservations(sim, alpha, beta):
    owner = sim.client("ec2", BROKER)
    crs = {c["CapacityReservationId"]: c
           for c in owner.describe_capacity_reservations()["CapacityReservations"]}
    check("owner sees its 3 blocks", set(crs) == {BLOCK1, BLOCK2, BLOCK3}, list(crs))
    b1 = crs.get(BLOCK1, {})
    check("owner sees block fields",
          b1.get("ReservationType") == "capacity-block" and b1.get("State") == "active" and
          b1.get("TotalInstanceCount") == 4 and b1.get("AvailableInstanceCount") == 4 and
          b1.get("InstanceMatchCriteria") == "targeted" and
          b1.get("Tags") == [{"Key": "Name", "Value": "alpha-beta-p5"}], b1)
    check("scheduled block has 0 available", crs.get(BLOCK2, {}).get("State") == "scheduled" and
          crs[BLOCK2]["AvailableInstanceCount"] == 0, crs.get(BLOCK2))
    mine = alpha.describe_capacity_reservations()["CapacityReservations"]
    ids = sorted(c["CapacityReservationId"] for c in mine)
    check("consumer sees blocks shared with it (account, org)", ids == [BLOCK1, BLOCK3], ids)
    check("consumer sees the owner's id, total and available, not tags",
          all(c["OwnerId"] == "999900000000" and "Tags" not in c and
              "CapacityAllocations" not in c and "TotalInstanceCount" in c for c in mine), mine)
    ids = sorted(c["CapacityReservationId"]
                 for c in beta.describe_capacity_reservations()["CapacityReservations"])
    check("consumer sees a block shared with its OU", ids == [BLOCK1, BLOCK2, BLOCK3], ids)
    got = beta.describe_capacity_reservations(
        Filters=[{"Name": "state", "Values": ["scheduled"]}])["CapacityReservations"]
    check("filter state=scheduled", [c["CapacityReservationId"] for c in got] == [BLOCK2], got)
    expect_error("consumer cannot name a block not shared with it",
                 lambda: alpha.describe_capacity_reservations(CapacityReservationIds=[BLOCK2]),
                 "InvalidCapacityReservationId.NotFound", 400)
    pages = list(owner.get_paginator("describe_capacity_reservations").paginate(
        PaginationConfig={"PageSize": 1}))
    check("DescribeCapacityReservations pages", len(pages) == 3 and
          sum(len(p["CapacityReservations"]) for p in pages) == 3, len(pages))
    expect_error("DryRun says DryRunOperation",
                 lambda: alpha.describe_capacity_reservations(DryRun=True),
                 "DryRunOperation", 412)


def test_launches(sim, alpha, beta, mallory):
    r = run(alpha, BLOCK1, "lease-42-a", count=2, tags={"cbq:job": "42", "cbq:team": "alpha"})
    ids = [i["InstanceId"] for i in r["Instances"]]
    inst = r["Instances"][0]
    check("RunInstances launches 2 pending", len(ids) == 2 and inst["State"]["Name"] == "pending"
          and all(len(i) == 19 and i.startswith("i-0") for i in ids), ids)
    check("RunInstances reply fields",
          inst.get("InstanceLifecycle") == "capacity-block" and
          inst.get("CapacityReservationId") == BLOCK1 and
          inst.get("ClientToken") == "lease-42-a" and r["OwnerId"] == "111100000001" and
          inst["Placement"]["AvailabilityZone"] == "us-east-1a" and
          {"Key": "cbq:job", "Value": "42"} in inst.get("Tags", []), inst)
    again = run(alpha, BLOCK1, "lease-42-a", count=2, tags={"cbq:job": "42", "cbq:team": "alpha"})
    check("same token, same parameters: the original reply",
          [i["InstanceId"] for i in again["Instances"]] == ids and
          again["ReservationId"] == r["ReservationId"])
    expect_error("same token, other parameters", lambda: run(
        alpha, BLOCK1, "lease-42-a", count=1, tags={"cbq:job": "42"}),
        "IdempotentParameterMismatch", 400)
    expect_error("capacity exceeded", lambda: run(beta, BLOCK1, "beta-1", count=3),
                 "ReservationCapacityExceeded", 400)
    part = run(beta, BLOCK1, "beta-2", count=3, min_count=1, tags={"cbq:job": "7"})
    check("MinCount..MaxCount launches what fits", len(part["Instances"]) == 2)
    expect_error("block full", lambda: run(beta, BLOCK1, "beta-3"),
                 "ReservationCapacityExceeded", 400)
    expect_error("account outside the organisation", lambda: run(mallory, BLOCK1, "m-1"),
                 "InvalidCapacityReservationId.NotFound", 400)
    expect_error("account the block is not shared with", lambda: run(alpha, BLOCK2, "a-9"),
                 "InvalidCapacityReservationId.NotFound", 400)
    expect_error("scheduled block", lambda: run(beta, BLOCK2, "beta-4"),
                 "InvalidCapacityReservationState.PendingActivation", 400)
    expect_error("wrong market type", lambda: run(
        alpha, BLOCK3, "a-10", InstanceType="p4d.24xlarge", InstanceMarketOptions={
            "MarketType": "spot"}), "InvalidParameterCombination", 400)
    expect_error("wrong instance type", lambda: run(alpha, BLOCK3, "a-11"),
                 "InvalidParameterValue", 400)
    expect_error("subnet in another AZ", lambda: run(
        alpha, BLOCK3, "a-12", InstanceType="p4d.24xlarge", SubnetId="subnet-0b0000000000001"),
        "InvalidParameterValue", 400)
    expect_error("Placement in another AZ", lambda: run(
        alpha, BLOCK3, "a-13", InstanceType="p4d.24xlarge",
        Placement={"AvailabilityZone": "us-east-1c"}), "InvalidParameterValue", 400)
    return ids


def test_describe_instances(sim, alpha, beta, ids):
    got = alpha.describe_instances(Filters=[{"Name": "tag:cbq:job", "Values": ["42"]}])
    found = [i["InstanceId"] for rv in got["Reservations"] for i in rv["Instances"]]
    check("DescribeInstances by tag", sorted(found) == sorted(ids), found)
    got = alpha.describe_instances(Filters=[{"Name": "client-token", "Values": ["lease-42-a"]}])
    check("DescribeInstances by client-token",
          sum(len(rv["Instances"]) for rv in got["Reservations"]) == 2)
    got = alpha.describe_instances(Filters=[{"Name": "tag-key", "Values": ["cbq:team"]},
                                            {"Name": "instance-id", "Values": [ids[0]]}])
    check("DescribeInstances tag-key and instance-id",
          [i["InstanceId"] for rv in got["Reservations"] for i in rv["Instances"]] == [ids[0]])
    got = beta.describe_instances()
    owners = {rv["OwnerId"] for rv in got["Reservations"]}
    check("an account sees only its own instances", owners == {"111100000002"}, owners)
    expect_error("another account's instance id", lambda: beta.describe_instances(
        InstanceIds=[ids[0]]), "InvalidInstanceID.NotFound", 400)
    time.sleep(31 / sim.factor + 0.05)
    got = alpha.describe_instances(InstanceIds=ids)
    states = {i["State"]["Name"] for rv in got["Reservations"] for i in rv["Instances"]}
    check("pending becomes running after 30 s sim", states == {"running"}, states)
    # Six more reservations on the org-wide block, then page through eight instances.
    for k in range(6):
        run(alpha, BLOCK3, f"page-{k}", InstanceType="p4d.24xlarge", tags={"page": str(k)})
    first = alpha.describe_instances(MaxResults=5)
    n_first = sum(len(rv["Instances"]) for rv in first["Reservations"])
    check("first page holds at most MaxResults", n_first <= 5 and "NextToken" in first,
          (n_first, first.get("NextToken")))
    pages = list(alpha.get_paginator("describe_instances").paginate(
        PaginationConfig={"PageSize": 5}))
    total = sum(len(rv["Instances"]) for p in pages for rv in p["Reservations"])
    check("paging returns every instance once", len(pages) == 2 and total == 8,
          (len(pages), total))
    expect_error("MaxResults with InstanceIds", lambda: alpha.describe_instances(
        InstanceIds=ids, MaxResults=5), "InvalidParameterCombination", 400)
    got = alpha.describe_instances(Filters=[{"Name": "instance-state-name",
                                             "Values": ["pending", "running"]},
                                            {"Name": "tag:page", "Values": ["1", "2"]}])
    check("filter values are ORed, filters ANDed",
          sum(len(rv["Instances"]) for rv in got["Reservations"]) == 2)


def test_usage(sim, owner, alpha):
    u = owner.get_capacity_reservation_usage(CapacityReservationId=BLOCK1)
    by = {x["AccountId"]: x["UsedInstanceCount"] for x in u["InstanceUsages"]}
    check("usage per account (owner)", by == {"111100000001": 2, "111100000002": 2} and
          u["AvailableInstanceCount"] == 0 and u["TotalInstanceCount"] == 4, u)
    expect_error("usage is owner only", lambda: alpha.get_capacity_reservation_usage(
        CapacityReservationId=BLOCK1), "UnauthorizedOperation", 403)


def test_terminate(sim, alpha, beta, ids):
    expect_error("terminate another account's instance",
                 lambda: beta.terminate_instances(InstanceIds=[ids[0]]),
                 "InvalidInstanceID.NotFound", 400)
    expect_error("terminate an unknown id (none terminated)",
                 lambda: alpha.terminate_instances(InstanceIds=[ids[0], "i-0fffffffffffffff0"]),
                 "InvalidInstanceID.NotFound", 400)
    t = alpha.terminate_instances(InstanceIds=ids)["TerminatingInstances"]
    check("terminate: running -> shutting-down",
          all(x["PreviousState"]["Name"] == "running" and
              x["CurrentState"]["Name"] == "shutting-down" for x in t), t)
    time.sleep(31 / sim.factor + 0.05)
    got = alpha.describe_instances(InstanceIds=ids)
    inst = [i for rv in got["Reservations"] for i in rv["Instances"]]
    check("terminated instances stay visible",
          {i["State"]["Name"] for i in inst} == {"terminated"} and
          inst[0]["StateReason"]["Code"] == "Client.UserInitiatedShutdown", inst[:1])
    crs = alpha.describe_capacity_reservations(CapacityReservationIds=[BLOCK1])
    check("their slots are free again",
          crs["CapacityReservations"][0]["AvailableInstanceCount"] == 2, crs)
    expect_error("token of terminated instances", lambda: run(
        alpha, BLOCK1, "lease-42-a", count=2, tags={"cbq:job": "42", "cbq:team": "alpha"}),
        "IdempotentInstanceTerminated", 400)


def test_ram_orgs(sim, alpha_keys, alpha_token):
    ram = sim.client("ram", BROKER)
    res = ram.list_resources(resourceOwner="SELF", resourceType="ec2:CapacityReservation")
    arns = sorted(r["arn"] for r in res["resources"])
    check("RAM ListResources SELF", len(arns) == 3 and arns[0].endswith(BLOCK1), arns)
    arn1 = f"arn:aws:ec2:{REGION}:999900000000:capacity-reservation/{BLOCK1}"
    pr = ram.list_principals(resourceOwner="SELF", resourceArn=arn1)["principals"]
    check("RAM ListPrincipals of a block", sorted(p["id"] for p in pr) ==
          ["111100000001", "111100000002"], pr)
    allp = [p["id"] for page in ram.get_paginator("list_principals").paginate(
        resourceOwner="SELF", PaginationConfig={"PageSize": 1}) for p in page["principals"]]
    check("RAM ListPrincipals pages, OU and org ARNs",
          len(allp) == 4 and
          "arn:aws:organizations::999900000000:ou/o-cbqexample01/ou-cbq1-research" in allp and
          "arn:aws:organizations::999900000000:organization/o-cbqexample01" in allp, allp)
    other = sim.client("ram", alpha_keys, alpha_token).list_resources(
        resourceOwner="OTHER-ACCOUNTS")
    check("RAM ListResources OTHER-ACCOUNTS (consumer)",
          sorted(r["arn"].rsplit("/", 1)[1] for r in other["resources"]) == [BLOCK1, BLOCK3],
          other["resources"])
    expect_error("RAM bad nextToken", lambda: ram.list_principals(
        resourceOwner="SELF", nextToken="nope"), "InvalidNextTokenException", 400)

    org = sim.client("organizations", BROKER)
    p = org.list_parents(ChildId="111100000001")["Parents"]
    check("Organizations ListParents of an account",
          p == [{"Id": "ou-cbq1-training", "Type": "ORGANIZATIONAL_UNIT"}], p)
    p = org.list_parents(ChildId="ou-cbq1-teamsaaa")["Parents"]
    check("Organizations ListParents of an OU", p == [{"Id": "r-cbq1", "Type": "ROOT"}], p)
    accts = [a["Id"] for page in org.get_paginator("list_accounts_for_parent").paginate(
        ParentId="ou-cbq1-research", PaginationConfig={"PageSize": 1}) for a in page["Accounts"]]
    check("Organizations ListAccountsForParent pages", accts == ["111100000002", "111100000003"],
          accts)
    ous = [o["Id"] for o in org.list_organizational_units_for_parent(
        ParentId="ou-cbq1-teamsaaa")["OrganizationalUnits"]]
    check("Organizations ListOrganizationalUnitsForParent",
          ous == ["ou-cbq1-training", "ou-cbq1-research"], ous)
    roots = org.list_roots()["Roots"]
    check("Organizations ListRoots", [r["Id"] for r in roots] == ["r-cbq1"], roots)
    d = sim.client("organizations", alpha_keys, alpha_token).describe_organization()
    check("Organizations DescribeOrganization (member)",
          d["Organization"]["Id"] == "o-cbqexample01" and
          d["Organization"]["MasterAccountId"] == "999900000000", d)
    expect_error("Organizations ListParents needs the management account",
                 lambda: sim.client("organizations", alpha_keys, alpha_token).list_parents(
                     ChildId="111100000001"), "AccessDeniedException")
    expect_error("Organizations account outside", lambda: sim.client(
        "organizations", MALLORY).describe_organization(), "AWSOrganizationsNotInUseException")
    expect_error("Organizations unknown child", lambda: org.list_parents(
        ChildId="123456789012"), "ChildNotFoundException")


def test_faults(sim, alpha):
    sim.fault(action="DescribeCapacityReservations", code="RequestLimitExceeded")
    expect_error("fault: EC2 throttling", alpha.describe_capacity_reservations,
                 "RequestLimitExceeded", 503)
    sim.fault(action="DescribeCapacityReservations", code="RequestLimitExceeded", times=2)
    retrying = sim.client("ec2", *ALPHA, retries={"mode": "standard", "total_max_attempts": 3})
    got = retrying.describe_capacity_reservations()
    check("botocore retries RequestLimitExceeded and then succeeds",
          got["ResponseMetadata"]["RetryAttempts"] == 2, got["ResponseMetadata"])
    sim.fault(action="GetCallerIdentity", code="Throttling")
    expect_error("fault: STS throttling", sim.client("sts", BROKER).get_caller_identity,
                 "Throttling", 400)
    sim.fault(action="DescribeInstances", status=500)
    try:
        alpha.describe_instances()
        check("fault: plain 500 with HTML", False, "no error")
    except ClientError as e:
        check("fault: plain 500 with HTML",
              e.response["ResponseMetadata"]["HTTPStatusCode"] == 500, e.response)
    before = len(sim.state()["instances"])
    sim.fault(action="RunInstances", code="InsufficientInstanceCapacity")
    expect_error("fault: capacity race", lambda: run(
        alpha, BLOCK3, "race-1", InstanceType="p4d.24xlarge"), "InsufficientInstanceCapacity", 500)
    check("a faulted launch launches nothing", len(sim.state()["instances"]) == before)
    sim.fault(action="ListPrincipals", code="ThrottlingException")
    expect_error("fault: RAM throttling", lambda: sim.client("ram", BROKER).list_principals(
        resourceOwner="SELF"), "ThrottlingException", 429)

    impatient = sim.client("ec2", *ALPHA, read_timeout=0.5, connect_timeout=2)
    # A slow service: the call runs only after the delay, even if the client gave up.
    sim.fault(action="RunInstances", delay_ms=800)
    try:
        run(impatient, BLOCK1, "slow-1")
        check("fault: delay makes the client time out", False, "no timeout")
    except botocore.exceptions.ReadTimeoutError:
        check("fault: delay makes the client time out", True)
    slow = lambda: [i for i in sim.state()["instances"]  # noqa: E731
                    if i["client_token"] == "slow-1"]
    check("fault: a delayed call has not run yet", slow() == [])
    time.sleep(0.6)
    check("fault: a delayed call runs after its delay", len(slow()) == 1)
    # A lost RunInstances response: the instance is created, the reply never arrives in time.
    sim.fault(action="RunInstances", after=True, delay_ms=1200)
    try:
        run(impatient, BLOCK3, "lost-1", InstanceType="p4d.24xlarge")
        check("lost response times out", False, "no timeout")
    except botocore.exceptions.ReadTimeoutError:
        check("lost response times out", True)
    mine = [i for i in sim.state()["instances"] if i["client_token"] == "lost-1"]
    check("lost response: the instance exists", len(mine) == 1, mine)
    again = run(alpha, BLOCK3, "lost-1", InstanceType="p4d.24xlarge")
    check("lost response: the retry with the token finds it",
          [i["InstanceId"] for i in again["Instances"]] == [m["id"] for m in mine])
    sim.fault(action="RunInstances", after=True, drop=True)
    try:
        run(alpha, BLOCK3, "lost-2", InstanceType="p4d.24xlarge")
        check("dropped response fails the call", False, "no error")
    except (botocore.exceptions.ConnectionClosedError, botocore.exceptions.EndpointConnectionError,
            botocore.exceptions.ReadTimeoutError):
        check("dropped response fails the call", True)
    again = run(alpha, BLOCK3, "lost-2", InstanceType="p4d.24xlarge")
    n = len([i for i in sim.state()["instances"] if i["client_token"] == "lost-2"])
    check("dropped response: one launch in all", n == 1 and len(again["Instances"]) == 1, n)
    status, _ = sim.control("DELETE", "/_sim/fault")
    check("faults can be cleared", status == 200 and sim.state()["faults"] == [])
    status, doc = sim.control("POST", "/_sim/fault", {"action": "RunInstances"})
    check("a fault needs an effect", status == 400, doc)


def test_control(sim, alpha):
    st = sim.state()
    check("state has now, blocks, instances, calls",
          st["now"].startswith("2026-11-23T") and len(st["blocks"]) == 3 and
          st["calls"].get("RunInstances", 0) >= 10 and st["instances"], st["calls"])
    inst = next(i for i in st["instances"] if i["client_token"] == "page-0")
    check("state instance fields", inst["account"] == "111100000001" and
          inst["block"] == BLOCK3 and inst["tags"] == {"page": "0"} and
          inst["launch_time"] and inst["end_time"], inst)
    status, doc = sim.control("POST", "/_sim/extend",
                              {"block": BLOCK1, "end": "2026-11-25T11:30:00Z"})
    got = alpha.describe_capacity_reservations(CapacityReservationIds=[BLOCK1])
    check("extend moves the end date", status == 200 and
          got["CapacityReservations"][0]["EndDate"].strftime("%Y-%m-%dT%H:%M") ==
          "2026-11-25T11:30", (status, doc))
    status, doc = sim.control("POST", "/_sim/extend",
                              {"block": BLOCK1, "end": "2026-11-24T00:00:00Z"})
    check("extend refuses an earlier end", status == 400, doc)
    avail = lambda: alpha.describe_capacity_reservations(  # noqa: E731
        CapacityReservationIds=[BLOCK1])["CapacityReservations"][0]["AvailableInstanceCount"]
    a0 = avail()
    status, doc = sim.control("POST", "/_sim/steal",
                              {"account": "111100000003", "block": BLOCK1, "count": 1})
    check("steal takes capacity now", status == 200 and avail() == a0 - 1 and
          len(doc["instances"]) == 1, (status, doc))
    status, doc = sim.control("POST", "/_sim/steal",
                              {"account": "111100000003", "block": BLOCK1, "count": 99})
    check("steal beyond what is free is refused", status in (400, 409), doc)
    status, doc = sim.control("POST", "/_sim/extend", {"block": "cr-00000000000000000"})
    check("control validates its input", status == 400, doc)


def test_imds(sim):
    status, _ = sim.http("GET", "/latest/meta-data/iam/security-credentials/")
    check("IMDS without a token is 401", status == 401, status)
    status, _ = sim.http("PUT", "/latest/api/token",
                         headers={"x-aws-ec2-metadata-token-ttl-seconds": "0"})
    check("IMDS token TTL 0 is refused", status == 400, status)
    fetcher = botocore.utils.InstanceMetadataFetcher(timeout=2, num_attempts=1,
                                                     base_url=sim.url + "/", env={})
    creds = fetcher.retrieve_iam_role_credentials()
    check("botocore's IMDSv2 fetcher gets credentials",
          creds.get("role_name") == "cbq-broker-host" and
          creds.get("access_key", "").startswith("ASIA") and creds.get("token"), creds)
    if creds.get("access_key"):
        who = sim.client("sts", (creds["access_key"], creds["secret_key"]),
                         creds["token"]).get_caller_identity()
        check("IMDS credentials act as the profile's principal",
              who["Arn"] == "arn:aws:iam::999900000000:user/cbq-broker", who)


def test_garbage(sim):
    """Malformed input gets an error, never a crash."""
    import socket
    junk = [
        b"GARBAGE\r\n\r\n",
        b"\x00\x01\x02\xff",
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\na=%zz",
        b"POST / HTTP/1.1\r\nHost: x\r\nAuthorization: AWS4-HMAC-SHA256 Credential=/////, "
        b"SignedHeaders=, Signature=\r\nContent-Length: 3\r\n\r\na=b",
        b"POST / HTTP/1.1\r\nHost: x\r\nAuthorization: AWS4-HMAC-SHA256 Credential=ASIAX/"
        b"20261123/us-east-1/sts/aws4_request, SignedHeaders=host, Signature=" + b"a" * 64 +
        b"\r\nX-Amz-Date: 2026\r\nContent-Length: 0\r\n\r\n",
        b"POST /listprincipals HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nnull",
        b"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: AWSOrganizationsV20161128.ListParents"
        b"\r\nContent-Length: 1\r\n\r\n[",
        b"POST /_sim/fault HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n{\"a\":",
        b"POST /_sim/steal HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n[]",
        b"PUT /latest/api/token HTTP/1.1\r\nHost: x\r\n"
        b"x-aws-ec2-metadata-token-ttl-seconds: 99999999999999\r\n\r\n",
        b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n" + b"a" * 1000,
    ]
    for data in junk:
        s = socket.create_connection(("127.0.0.1", sim.port), timeout=2)
        try:
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
            while s.recv(65536):
                pass
        except OSError:
            pass
        finally:
            s.close()
    status, _ = sim.http("GET", "/_sim/health")
    check("malformed requests get errors, the emulator stays up",
          status == 200 and sim.proc.poll() is None)
    signed = sim.client("ec2", BROKER)
    status = signed.describe_instances(Filters=[{"Name": "tag:x", "Values": ["*?[" * 50]}])
    check("odd filter patterns are harmless", "Reservations" in status)
    expect_error("an unknown filter", lambda: signed.describe_instances(
        Filters=[{"Name": "owner-id", "Values": ["x"]}]), "InvalidParameterValue", 400)


def main_suite(binary):
    global ACTIVE, ALPHA
    sim = Sim(binary, BASIC, 60.0, datetime.datetime(2026, 11, 23, 8, 0, 0))
    ACTIVE = sim
    try:
        test_sts(sim)
        ak, atok, _ = assume(sim, "111100000001", "ext-1", "alpha", duration=43200)
        bk, btok, _ = assume(sim, "111100000002", "ext-2", "beta", duration=43200)
        ALPHA = (ak, atok)
        alpha = sim.client("ec2", ak, atok)
        beta = sim.client("ec2", bk, btok)
        owner = sim.client("ec2", BROKER)
        test_reservations(sim, alpha, beta)
        ids = test_launches(sim, alpha, beta, sim.client("ec2", MALLORY))
        test_usage(sim, owner, alpha)
        test_describe_instances(sim, alpha, beta, ids)
        test_terminate(sim, alpha, beta, ids)
        test_ram_orgs(sim, ak, atok)
        test_faults(sim, alpha)
        test_control(sim, alpha)
        test_imds(sim)
        test_garbage(sim)
    finally:
        sim.stop()


FAST = {
    "region": "us-east-1", "epoch": "2026-11-23T08:00:00Z",
    "principals": [{"arn": "arn:aws:iam::999900000000:user/cbq-broker",
                    "access_key": BROKER[0], "secret_key": BROKER[1]}],
    "accounts": [{"id": "111100000001", "roles": [{
        "name": "cbq-launcher", "external_id": "ext-1",
        "trust": ["arn:aws:iam::999900000000:user/cbq-broker",
                  "arn:aws:iam::111100000001:role/cbq-launcher"]}]}],
    "blocks": [
        {"id": "cr-0f0000000000000001", "owner": "999900000000", "instance_type": "p5.48xlarge",
         "az": "us-east-1a", "count": 2, "start": "2026-11-23T07:00:00Z",
         "end": "2026-11-23T09:30:00Z", "state": "active", "shared_with": ["111100000001"]},
        {"id": "cr-0f0000000000000002", "owner": "999900000000", "instance_type": "p5.48xlarge",
         "az": "us-east-1a", "count": 2, "start": "2026-11-23T08:30:00Z",
         "end": "2026-11-23T10:00:00Z", "state": "scheduled", "shared_with": ["111100000001"]}],
    "outside_launches": [{"account": "111100000003", "block": "cr-0f0000000000000001",
                          "count": 1, "at": "2026-11-23T08:20:00Z",
                          "until": "2026-11-23T08:45:00Z"}],
}


def describe_one(ec2, block):
    return ec2.describe_capacity_reservations(
        CapacityReservationIds=[block])["CapacityReservations"][0]


def fast_suite(binary):
    """scaled:1200, 20 minutes a second: session expiry, an outside launch,
    block start, extension, the cutoff 30 min before the end, expiry, and
    terminated instances leaving the listing an hour later."""
    global ACTIVE
    A, B = "cr-0f0000000000000001", "cr-0f0000000000000002"
    epoch = datetime.datetime(2026, 11, 23, 8, 0, 0)
    at = lambda h, m=0: epoch + datetime.timedelta(hours=h, minutes=m)  # noqa: E731
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(FAST, f)
    sim = Sim(binary, f.name, 1200.0, epoch)
    ACTIVE = sim
    try:
        keys, token, _ = assume(sim, "111100000001", "ext-1", "fast", duration=43200)
        short_keys, short_token, _ = assume(sim, "111100000001", "ext-1", "short", duration=900)
        ec2 = sim.client("ec2", keys, token)
        a1 = run(ec2, A, "fast-a")["Instances"][0]["InstanceId"]
        chain = sim.client("sts", keys, token)
        role = "arn:aws:iam::111100000001:role/cbq-launcher"
        expect_error("fast: role chaining is capped at 1 h", lambda: chain.assume_role(
            RoleArn=role, RoleSessionName="chained", ExternalId="ext-1", DurationSeconds=7200),
            "ValidationError", 400)
        got = chain.assume_role(RoleArn=role, RoleSessionName="chained", ExternalId="ext-1")
        check("fast: a session trusted through its role may chain",
              got["AssumedRoleUser"]["Arn"].endswith("assumed-role/cbq-launcher/chained"), got)
        expect_error("fast: scheduled block refuses launches",
                     lambda: run(ec2, B, "fast-b0"),
                     "InvalidCapacityReservationState.PendingActivation", 400)
        sim.wait_until(at(0, 19))
        expect_error("fast: expired session on EC2", lambda: sim.client(
            "ec2", short_keys, short_token).describe_instances(), "RequestExpired", 400)
        expect_error("fast: expired session on STS", lambda: sim.client(
            "sts", short_keys, short_token).get_caller_identity(), "ExpiredToken", 400)
        sim.wait_until(at(0, 22))
        cr = ec2.describe_capacity_reservations(CapacityReservationIds=[A])
        check("fast: the outside launch took a slot",
              cr["CapacityReservations"][0]["AvailableInstanceCount"] == 0, cr)
        expect_error("fast: first come first served", lambda: run(ec2, A, "fast-a2"),
                     "ReservationCapacityExceeded", 400)
        sim.wait_until(at(0, 35))
        cr = ec2.describe_capacity_reservations(CapacityReservationIds=[B])
        check("fast: scheduled -> active at start",
              cr["CapacityReservations"][0]["State"] == "active" and
              cr["CapacityReservations"][0]["AvailableInstanceCount"] == 2, cr)
        b1 = run(ec2, B, "fast-b1")["Instances"][0]["InstanceId"]
        status, _ = sim.control("POST", "/_sim/extend", {"block": B, "end": "2026-11-23T14:00:00Z"})
        check("fast: extend an active block", status == 200)
        sim.wait_until(at(0, 50))
        cr = ec2.describe_capacity_reservations(CapacityReservationIds=[A])
        check("fast: the outside launch ended at until",
              cr["CapacityReservations"][0]["AvailableInstanceCount"] == 1, cr)
        sim.wait_until(at(1, 5))
        got = ec2.describe_instances(InstanceIds=[a1])["Reservations"][0]["Instances"][0]
        check("fast: instances end at the cutoff (end - 30 min)",
              got["State"]["Name"] in ("shutting-down", "terminated") and
              got["StateReason"]["Code"] == "Server.ScheduledStop", got["State"])
        cr = describe_one(ec2, A)
        check("fast: no capacity after the cutoff",
              cr["State"] == "active" and cr["AvailableInstanceCount"] == 0, cr)
        expect_error("fast: no launches after the cutoff", lambda: run(ec2, A, "fast-a3"),
                     "ReservationCapacityExceeded", 400)
        sim.wait_until(at(1, 35))
        cr = describe_one(ec2, A)
        check("fast: expired at end", cr["State"] == "expired", cr["State"])
        got = ec2.describe_instances(InstanceIds=[b1])["Reservations"][0]["Instances"][0]
        check("fast: an extended block keeps its instances past the old cutoff",
              got["State"]["Name"] == "running", got["State"])
        sim.wait_until(at(2, 5))
        expect_error("fast: terminated instances disappear after an hour",
                     lambda: ec2.describe_instances(InstanceIds=[a1]),
                     "InvalidInstanceID.NotFound", 400)
        st = sim.state()
        check("fast: state shows the cutoff reason",
              any(i["id"] == a1 and i["end_reason"] == "cutoff" for i in st["instances"]))
    finally:
        sim.stop()
        os.unlink(f.name)


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    for k in list(os.environ):
        if k.startswith("AWS_"):
            del os.environ[k]
    os.environ.update(AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull,
                      AWS_EC2_METADATA_DISABLED="true")
    global SESSION
    SESSION = boto3.session.Session(region_name=REGION)
    t0 = time.time()
    main_suite(sys.argv[1])
    fast_suite(sys.argv[1])
    print(f"awssim conformance: {time.time() - t0:.1f}s")
    print(f"{len(PASSED)} passed, {len(FAILED)} failed")
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
