#!/usr/bin/env python3
"""The IAM templates of deploy/iam/ grant exactly the AWS actions cbqd calls.

Reads the actions from the C sources (the request builders of broker/aws/ and
the JSON calls to RAM and Organizations), maps each to the identity cbqd uses
for it (ROLE_OF below: a new call fails this test until someone decides whose
template grants it), and fails when an action is called but not granted by
its role's template, granted but not called, or granted by another template.
It also checks each template's CloudFormation shape: format version,
resources of IAM types, parameters that are used, and references that exist.
It does not evaluate conditions or resources: that needs AWS.

  tests/deploy/check_iam.py [REPO_ROOT]
"""
import os
import re
import sys

import yaml

ROOT = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else
                       os.path.join(os.path.dirname(__file__), "..", ".."))

TEMPLATES = {
    "launcher": "deploy/iam/launcher-role.yaml",
    "owner_read": "deploy/iam/owner-read-role.yaml",
    "broker": "deploy/iam/broker-role.yaml",
}

# Whose credentials each call cbqd makes goes out with. None: made with
# credentials that are not cbqd's (no template grants it).
ROLE_OF = {
    # engine_launch.c and engine_reconcile.c, as the job account's launcher role
    "ec2:RunInstances": "launcher",
    "ec2:DescribeInstances": "launcher",
    "ec2:TerminateInstances": "launcher",
    # engine_inventory*.c, as the owner account's read role
    "ec2:DescribeCapacityReservations": "owner_read",
    "ec2:GetCapacityReservationUsage": "owner_read",
    "ram:ListPrincipals": "owner_read",
    "organizations:DescribeOrganization": "owner_read",
    "organizations:ListParents": "owner_read",
    # aws/client.c, as cbqd itself, into the two roles above
    "sts:AssumeRole": "broker",
    # cbq (the CLI) signs it with the user's own credentials and cbqd only
    # replays that signed request (auth/iamverify.c); it needs no permission
    "sts:GetCallerIdentity": None,
}

# Where a call of each role may be made from: a call found elsewhere means
# the map above is wrong (say, the launcher reading capacity reservations).
FILES_OF = {
    "launcher": {"broker/engine_launch.c", "broker/engine_reconcile.c"},
    "owner_read": {"broker/engine_inventory.c", "broker/engine_inventory_aws.c"},
    "broker": {"broker/aws/client.c"},
    None: {"broker/auth/", "client/"},
}

# Actions IAM checks although cbqd never names them: a parameter of a call it
# makes (in the builder's file) makes EC2 authorise a second action.
IMPLIED = [
    # RunInstances with TagSpecification is authorised as CreateTags too
    ("broker/aws/ec2.c", "TagSpecification", "ec2:CreateTags", "launcher"),
    # RunInstances with IamInstanceProfile passes the profile's role
    ("broker/aws/ec2.c", "IamInstanceProfile", "iam:PassRole", "launcher"),
]

SERVICE_OF_VERSION = {"AWS_EC2_VERSION": "ec2", "AWS_STS_VERSION": "sts"}
PSEUDO = {"AWS::AccountId", "AWS::NoValue", "AWS::Partition", "AWS::Region",
          "AWS::StackName", "AWS::StackId", "AWS::URLSuffix", "AWS::NotificationARNs"}
IAM_TYPES = {"AWS::IAM::Role", "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy",
             "AWS::IAM::InstanceProfile"}

failures = []


def fail(msg):
    failures.append(msg)


def read(rel):
    with open(os.path.join(ROOT, rel), encoding="utf-8") as f:
        return f.read()


def c_files(*dirs):
    for d in dirs:
        for base, _, names in os.walk(os.path.join(ROOT, d)):
            for n in sorted(names):
                if n.endswith((".c", ".h")):
                    yield os.path.relpath(os.path.join(base, n), ROOT)


def strip_comments(src):
    return re.sub(r"/\*.*?\*/|//[^\n]*", " ", src, flags=re.S)


# ---- the code's side ---------------------------------------------------------

def code_actions():
    """{action: set of files that make the call}"""
    calls = {}
    sources = {f: strip_comments(read(f)) for f in c_files("broker", "client")}
    # Query-protocol builders: aws_form_init(&f, "Op", AWS_EC2_VERSION, ...)
    # inside a function NAME(...) whose callers are the call sites.
    builder_re = re.compile(r"\n(?:enum cbq_err|[a-z_ ]+\*?)\s*(aws_\w+)\s*\([^;{]*\)\s*\{"
                            r"(?:(?!\n\}).)*?aws_form_init\(\s*&\w+\s*,\s*\"(\w+)\"\s*,\s*(\w+)",
                            re.S)
    for f, src in sources.items():
        if not f.startswith("broker/aws/"):
            continue
        for fn, op, version in builder_re.findall(src):
            svc = SERVICE_OF_VERSION.get(version)
            if not svc:
                fail(f"{f}: {fn} builds {op} with unknown version {version}")
                continue
            action = f"{svc}:{op}"
            where = {g for g, s in sources.items()
                     if g != f and re.search(r"\b" + fn + r"\s*\(", s) and not g.endswith(".h")}
            if where:
                calls.setdefault(action, set()).update(where)
            else:
                print(f"note: {fn} ({action}) has no caller in cbqd or cbq (tests only)")
    # A request body written out whole: AUTH_IAM_BODY "Action=Op&Version=..."
    literal_re = re.compile(r"\"Action=(\w+)&Version=(\d{4}-\d\d-\d\d)")
    version_service = {"2016-11-15": "ec2", "2011-06-15": "sts"}
    for f, src in sources.items():
        for op, version in literal_re.findall(src):
            if version not in version_service:
                fail(f"{f}: Action={op} with an API version this test does not know")
                continue
            calls.setdefault(f"{version_service[version]}:{op}", set()).add(f)
    # JSON-protocol calls (RAM, Organizations) name their action where they
    # are made: sync_call(o, AWS_SVC_RAM, "ram:ListPrincipals", ...).
    json_re = re.compile(r"AWS_SVC_(?:RAM|ORGANIZATIONS)\s*,\s*\"((?:ram|organizations):\w+)\"")
    for f, src in sources.items():
        for action in json_re.findall(src):
            calls.setdefault(action, set()).add(f)
    # every builder function must have been found: count aws_form_init uses
    for f, src in sources.items():
        if f.startswith("broker/aws/") and f.endswith(".c") and f != "broker/aws/form.c":
            n_init = len(re.findall(r"aws_form_init\(", src))
            n_found = len(builder_re.findall(src))
            if n_init != n_found:
                fail(f"{f}: {n_init} aws_form_init calls but {n_found} builders understood; "
                     "update tests/deploy/check_iam.py")
    return calls


def expected_by_role(calls):
    want = {role: set() for role in TEMPLATES}
    for action, files in sorted(calls.items()):
        if action not in ROLE_OF:
            fail(f"cbqd calls {action} (from {', '.join(sorted(files))}) but ROLE_OF in "
                 "tests/deploy/check_iam.py does not say whose credentials it uses: add it "
                 "there and grant it in that role's template")
            continue
        role = ROLE_OF[action]
        allowed = FILES_OF[role]
        for f in files:
            if not any(f == a or (a.endswith("/") and f.startswith(a)) for a in allowed):
                fail(f"{action} is called from {f}, which does not act as the "
                     f"{role or 'caller'} identity ROLE_OF gives it")
        if role:
            want[role].add(action)
    for action in ROLE_OF:
        if action not in calls:
            fail(f"ROLE_OF lists {action}, which cbqd no longer calls: remove it")
    for rel, needle, action, role in IMPLIED:
        if needle in strip_comments(read(rel)):
            want[role].add(action)
    return want


# ---- the templates' side -----------------------------------------------------

class CfnLoader(yaml.SafeLoader):
    pass


def _cfn_tag(loader, suffix, node):
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {"Fn::" + suffix: value}


CfnLoader.add_multi_constructor("!", _cfn_tag)


def walk(node):
    yield node
    if isinstance(node, dict):
        for v in node.values():
            yield from walk(v)
    elif isinstance(node, list):
        for v in node:
            yield from walk(v)


def as_list(v):
    return v if isinstance(v, list) else [v]


def statements(doc):
    """Statements of a policy document, an Fn::If's branches included."""
    for s in as_list(doc.get("Statement", [])):
        if isinstance(s, dict) and "Fn::If" in s:
            for branch in s["Fn::If"][1:]:
                if isinstance(branch, dict) and "Ref" not in branch:
                    yield branch
        elif isinstance(s, dict):
            yield s


def check_template(role, rel):
    """The actions rel's permission policies allow; checks its shape on the way."""
    try:
        with open(os.path.join(ROOT, rel), encoding="utf-8") as f:
            t = yaml.load(f, Loader=CfnLoader)
    except (OSError, yaml.YAMLError) as e:
        fail(f"{rel}: {e}")
        return set()
    if not isinstance(t, dict):
        fail(f"{rel}: not a mapping")
        return set()
    if t.get("AWSTemplateFormatVersion") != "2010-09-09":
        fail(f"{rel}: AWSTemplateFormatVersion must be \"2010-09-09\"")
    unknown = set(t) - {"AWSTemplateFormatVersion", "Description", "Parameters", "Conditions",
                        "Resources", "Outputs", "Metadata", "Mappings"}
    if unknown:
        fail(f"{rel}: unknown top-level sections {sorted(unknown)}")
    params = t.get("Parameters") or {}
    resources = t.get("Resources") or {}
    conditions = t.get("Conditions") or {}
    if not resources:
        fail(f"{rel}: no Resources")
    names = set(params) | set(resources) | PSEUDO
    for p, spec in params.items():
        if not isinstance(spec, dict) or "Type" not in spec:
            fail(f"{rel}: parameter {p} has no Type")
    # every Ref, Sub variable, GetAtt and condition name resolves
    for node in walk(t):
        if not isinstance(node, dict):
            continue
        if "Ref" in node and node["Ref"] not in names:
            fail(f"{rel}: Ref to unknown {node['Ref']}")
        if "Fn::GetAtt" in node and node["Fn::GetAtt"][0] not in resources:
            fail(f"{rel}: GetAtt of unknown resource {node['Fn::GetAtt'][0]}")
        if "Fn::If" in node and node["Fn::If"][0] not in conditions:
            fail(f"{rel}: Fn::If on unknown condition {node['Fn::If'][0]}")
        if "Fn::Sub" in node:
            sub = node["Fn::Sub"]
            text, local = (sub, {}) if isinstance(sub, str) else (sub[0], sub[1])
            for var in re.findall(r"\$\{([^}!]+)\}", text):
                if var not in names and var not in local and var.split(".")[0] not in resources:
                    fail(f"{rel}: Fn::Sub names unknown ${{{var}}}")
    # every parameter is used
    used = set()
    for node in walk(t):
        if isinstance(node, dict) and "Ref" in node:
            used.add(node["Ref"])
        if isinstance(node, dict) and "Fn::Sub" in node:
            sub = node["Fn::Sub"]
            used.update(re.findall(r"\$\{(\w+)\}", sub if isinstance(sub, str) else sub[0]))
    for p in params:
        if p not in used:
            fail(f"{rel}: parameter {p} is never used")

    granted = set()
    roles = 0
    for name, res in resources.items():
        rtype = res.get("Type") if isinstance(res, dict) else None
        if rtype not in IAM_TYPES:
            fail(f"{rel}: resource {name} has Type {rtype}, not one of {sorted(IAM_TYPES)}")
            continue
        props = res.get("Properties") or {}
        docs = []
        if rtype == "AWS::IAM::Role":
            roles += 1
            check_trust(role, rel, name, props.get("AssumeRolePolicyDocument"))
            docs += [p.get("PolicyDocument") for p in props.get("Policies", [])]
            if props.get("ManagedPolicyArns"):
                fail(f"{rel}: {name} attaches managed policies: grant inline, exactly")
        elif rtype in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            docs.append(props.get("PolicyDocument"))
            if not props.get("Roles"):
                fail(f"{rel}: policy {name} is attached to no role")
        for doc in docs:
            granted |= policy_actions(rel, name, doc)
    if roles != 1:
        fail(f"{rel}: {roles} AWS::IAM::Role resources, want exactly 1")
    return granted


def policy_actions(rel, name, doc):
    out = set()
    if not isinstance(doc, dict) or doc.get("Version") != "2012-10-17":
        fail(f"{rel}: {name}: a policy document needs Version \"2012-10-17\"")
        return out
    for s in statements(doc):
        where = f"{rel}: {name} statement {s.get('Sid', '?')}"
        if s.get("Effect") != "Allow":
            fail(f"{where}: only Allow statements are expected (Effect {s.get('Effect')})")
        if "NotAction" in s or "NotResource" in s:
            fail(f"{where}: NotAction/NotResource grant more than they name")
        if "Resource" not in s:
            fail(f"{where}: no Resource")
        for a in as_list(s.get("Action", [])):
            if not isinstance(a, str) or not re.fullmatch(r"[a-z0-9-]+:[A-Za-z]+", a):
                fail(f"{where}: action {a!r} is a wildcard or malformed: name each action")
                continue
            out.add(a)
    return out


def check_trust(role, rel, name, doc):
    if not isinstance(doc, dict) or doc.get("Version") != "2012-10-17":
        fail(f"{rel}: {name}: AssumeRolePolicyDocument needs Version \"2012-10-17\"")
        return
    stmts = list(statements(doc))
    if not stmts:
        fail(f"{rel}: {name}: the trust policy trusts no one")
    for s in stmts:
        if s.get("Action") != "sts:AssumeRole" or s.get("Effect") != "Allow":
            fail(f"{rel}: {name}: trust statements allow sts:AssumeRole only")
        principal = s.get("Principal")
        if principal == "*" or (isinstance(principal, dict) and "*" in as_list(principal.get("AWS"))):
            fail(f"{rel}: {name}: the trust policy trusts everyone")
        if role != "broker":
            ext = ((s.get("Condition") or {}).get("StringEquals") or {}).get("sts:ExternalId")
            if ext != {"Ref": "ExternalId"}:
                fail(f"{rel}: {name}: trust without a StringEquals sts:ExternalId condition")
            if principal != {"AWS": {"Ref": "BrokerPrincipalArn"}}:
                fail(f"{rel}: {name}: must trust exactly the BrokerPrincipalArn parameter")


def main():
    calls = code_actions()
    want = expected_by_role(calls)
    granted = {role: check_template(role, rel) for role, rel in TEMPLATES.items()}
    for role, rel in TEMPLATES.items():
        for a in sorted(want[role] - granted[role]):
            fail(f"cbqd calls {a} as the {role} role but {rel} does not grant it")
        for a in sorted(granted[role] - want[role]):
            others = [r for r in TEMPLATES if a in want[r]]
            hint = f" (cbqd calls it as the {others[0]} role)" if others else \
                " (cbqd never calls it)"
            fail(f"{rel} grants {a}, which cbqd does not call as the {role} role{hint}")
    for role in TEMPLATES:
        print(f"{role}: {', '.join(sorted(granted[role])) or '-'}")
    if failures:
        for f in failures:
            print("FAIL: " + f, file=sys.stderr)
        return 1
    print(f"ok: {sum(len(v) for v in granted.values())} actions, each granted to the role "
          "that calls it and to no other")
    return 0


if __name__ == "__main__":
    sys.exit(main())
