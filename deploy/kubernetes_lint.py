"""What schema validation does not check: that the rendered Kubernetes
manifests (deploy/kubernetes) wire the sentence store together.

    kubectl kustomize deploy/kubernetes | python3 deploy/kubernetes_lint.py

Reads the rendered objects (multi-document YAML) on standard input and checks:
- the balancer finds the nodes: every HOST:PORT of BALANCER_NODE_DNS names the
  headless Service (clusterIP: None) of the nodes, as `svc`, `svc.NAMESPACE`,
  `svc.NAMESPACE.svc` or `svc.NAMESPACE.svc.cluster.local`, and PORT is that
  Service's port, the node container's port (its targetPort) and NODE_PORT;
  the Service's selector matches the StatefulSet's pod labels, and the
  StatefulSet's serviceName is that Service;
- the balancer's Service is a ClusterIP on 4999 whose selector matches the
  Deployment's pod labels and reaches its container port (BALANCER_PORT);
  the Deployment has two replicas;
- each PodDisruptionBudget selects the pods of a workload;
- the nodes: a volume per pod (volumeClaimTemplates) on /data holding
  NODE_DATABASE, the host's /proc read-only (hostPath) at /host/proc with
  NODE_SO_INFO and NODE_PROC there, NODE_NAME from metadata.name, readiness on
  /health and liveness not on /health (503 while the disk is full: a restart
  does not help), resource requests;
- both programs listen on 0.0.0.0, run as uid 10001 and non-root, with a
  read-only root, no privilege escalation and no capabilities, and take their
  admin token from the optional Secret sentence-store-admin (key token);
- Litestream: the node pod has one more container, `litestream replicate
  -config FILE`, with the node's security settings, resource requests and a
  memory limit; it mounts the node's data claim where the node does, and gets
  the same NODE_DATABASE, LITESTREAM_REPLICA_URL, LITESTREAM_SOCKET and AWS_*
  (and the variables those refer to) as the node; the node reads the socket it
  serves (NODE_LITESTREAM_SOCKET, on an emptyDir both mount) and leaves
  checkpoints to it (NODE_WAL_AUTOCHECKPOINT 0); FILE is NODE_LITESTREAM_CONFIG,
  from a ConfigMap volume both mount read-only, whose content is
  deploy/litestream/litestream.yml, and every ${VAR} it reads is set in both;
  the startup probe waits longer than a restore may take (NODE_RESTORE_TIMEOUT,
  600 s when not set); the replica URL has the pod's name in it (one replica
  per pod), and a file:// replica is on a claim of its own, not the data
  claim, that both mount; S3 credentials come from the optional Secret
  sentence-litestream-s3; the liveness probe asks the control socket
  (`litestream info -socket`).
Prints one line per problem and exits 1 if there is any. Needs PyYAML.
"""
import os
import posixpath
import re
import sys
from urllib.parse import urlsplit

import yaml

KINDS = {"Service", "StatefulSet", "Deployment", "PodDisruptionBudget", "ConfigMap"}
SECRET = ("sentence-store-admin", "token")
S3_SECRET = "sentence-litestream-s3"
# The one Litestream configuration of every deployment, beside this script.
LITESTREAM_CONFIG = os.path.join(os.path.dirname(os.path.abspath(__file__)), "litestream", "litestream.yml")
# What the node and Litestream must agree on (the node runs `litestream restore`).
SHARED_ENV = ("NODE_DATABASE", "LITESTREAM_REPLICA_URL", "LITESTREAM_SOCKET",
              "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
REFERENCE = re.compile(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)")


def matches(selector, labels):
    """A selector (a plain map, or matchLabels) picks pods with these labels."""
    selector = selector or {}
    if "matchLabels" in selector or "matchExpressions" in selector:
        if selector.get("matchExpressions"):
            return False  # not used here; refuse rather than half-check
        selector = selector.get("matchLabels") or {}
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def pod_of(workload, program):
    """A workload's pod spec, pod labels, and the container running `program` (None if none does)."""
    template = workload["spec"]["template"]
    spec = template["spec"]
    container = next((c for c in spec["containers"] if c.get("command", [])[:1] == [program]), None)
    return spec, template["metadata"].get("labels") or {}, container


def env_of(container):
    return {e["name"]: e for e in container.get("env") or []}


def value(env, name):
    entry = env.get(name)
    return None if entry is None else entry.get("value")


def container_port(container, port):
    """The number a Service targetPort (number or name) reaches in the container."""
    for p in container.get("ports") or []:
        if port in (p.get("name"), p.get("containerPort")):
            return p.get("containerPort")
    return port if isinstance(port, int) else None


def only(objects, kind, problems):
    found = [o for o in objects if o["kind"] == kind]
    if len(found) != 1:
        problems.append(f"expected one {kind}, found {len(found)}")
        return None
    return found[0]


def security_problems(what, spec, container, problems):
    pod = spec.get("securityContext") or {}
    own = container.get("securityContext") or {}
    if own.get("runAsUser", pod.get("runAsUser")) != 10001:
        problems.append(f"{what}: does not run as uid 10001")
    if own.get("runAsNonRoot", pod.get("runAsNonRoot")) is not True:
        problems.append(f"{what}: runAsNonRoot is not true")
    if own.get("readOnlyRootFilesystem") is not True:
        problems.append(f"{what}: root filesystem is not read-only")
    if own.get("allowPrivilegeEscalation") is not False:
        problems.append(f"{what}: privilege escalation is not off")
    if (own.get("capabilities") or {}).get("drop") != ["ALL"]:
        problems.append(f"{what}: capabilities are not dropped (drop: [ALL])")
    if not ((container.get("resources") or {}).get("requests")):
        problems.append(f"{what}: no resource requests")


def program_problems(what, spec, container, port, prefix, problems):
    env = env_of(container)
    if value(env, f"{prefix}_HOST") != "0.0.0.0":
        problems.append(f"{what}: {prefix}_HOST is not 0.0.0.0")
    if str(value(env, f"{prefix}_PORT")) != str(port):
        problems.append(f"{what}: {prefix}_PORT is {value(env, f'{prefix}_PORT')}, not {port}")
    security_problems(what, spec, container, problems)
    token = env.get(f"{prefix}_ADMIN_TOKEN", {}).get("valueFrom", {}).get("secretKeyRef") or {}
    if (token.get("name"), token.get("key"), token.get("optional")) != (*SECRET, True):
        problems.append(f"{what}: {prefix}_ADMIN_TOKEN is not from the optional Secret {SECRET[0]} key {SECRET[1]}")
    for probe in ("readinessProbe", "livenessProbe"):
        check = container.get(probe) or {}
        target = (check.get("httpGet") or check.get("tcpSocket") or {}).get("port")
        if not check:
            problems.append(f"{what}: no {probe}")
        elif container_port(container, target) != port:
            problems.append(f"{what}: {probe} does not ask port {port}")


def referenced(env, names):
    """`names` and every variable their values refer to as $(VAR), transitively."""
    found, todo = set(), list(names)
    while todo:
        name = todo.pop()
        if name in found:
            continue
        found.add(name)
        todo += REFERENCE.findall(str(value(env, name) or ""))
    return found


def resolved(env, name, config_maps, pod_name="POD"):
    """The value a variable takes in a pod named `pod_name`, as the kubelet expands it."""
    entry = env.get(name)
    if entry is None:
        return None
    if "value" in entry:
        text = str(entry["value"])
        for ref in REFERENCE.findall(text):
            if ref in env:
                text = text.replace(f"$({ref})", resolved(env, ref, config_maps, pod_name) or "")
        return text
    source = entry.get("valueFrom") or {}
    if (source.get("fieldRef") or {}).get("fieldPath") == "metadata.name":
        return pod_name
    key = source.get("configMapKeyRef")
    if key:
        return (config_maps.get(key.get("name"), {}).get("data") or {}).get(key.get("key"))
    return None


def mount_at(container, path):
    """The volumeMount holding `path` (the deepest mountPath above it), or {}."""
    found = [m for m in container.get("volumeMounts") or []
             if path == m["mountPath"] or path.startswith(m["mountPath"].rstrip("/") + "/")]
    return max(found, key=lambda m: len(m["mountPath"])) if found else {}


def litestream_problems(nodes, spec, node, config_maps, problems):
    """The Litestream container beside the node, and what the two share."""
    streams = [c for c in spec["containers"] if c.get("command", [])[:2] == ["litestream", "replicate"]]
    if len(streams) != 1:
        problems.append(f"the node pod runs {len(streams)} `litestream replicate` containers, not 1")
        return
    stream = streams[0]
    what = stream.get("name", "litestream")
    security_problems(what, spec, stream, problems)
    if not ((stream.get("resources") or {}).get("limits") or {}).get("memory"):
        problems.append(f"{what}: no memory limit")
    n_env, l_env = env_of(node), env_of(stream)
    volumes = {v["name"]: v for v in spec.get("volumes") or []}
    claims = {c["metadata"]["name"] for c in nodes["spec"].get("volumeClaimTemplates") or []}
    for name in sorted(referenced(n_env, SHARED_ENV) | referenced(l_env, SHARED_ENV)):
        if n_env.get(name) != l_env.get(name):
            problems.append(f"node, {what}: {name} differs ({n_env.get(name)} vs {l_env.get(name)})")
    startup = node.get("startupProbe") or {}
    window = startup.get("periodSeconds", 10) * startup.get("failureThreshold", 3)
    timeout = float(value(n_env, "NODE_RESTORE_TIMEOUT") or 600)
    if window <= timeout:
        problems.append(f"node: the startup probe gives up after {window} s, before a restore may end"
                        f" (NODE_RESTORE_TIMEOUT {timeout:g} s): the kubelet would kill a restoring node")
    if str(value(n_env, "NODE_WAL_AUTOCHECKPOINT")) != "0":
        problems.append(f"node: NODE_WAL_AUTOCHECKPOINT is {value(n_env, 'NODE_WAL_AUTOCHECKPOINT')!r},"
                        " not 0 (Litestream does the checkpoints)")

    # The database: the same claim at the same place in both.
    database = str(value(n_env, "NODE_DATABASE") or "")
    n_data, l_data = mount_at(node, database), mount_at(stream, database)
    if not l_data or l_data.get("name") != n_data.get("name") or l_data["mountPath"] != n_data.get("mountPath") \
            or n_data.get("name") not in claims:
        problems.append(f"{what}: does not mount the node's data claim at {n_data.get('mountPath')} ({database})")

    # The control socket: the node reads what Litestream serves, on an emptyDir of both.
    socket = value(n_env, "NODE_LITESTREAM_SOCKET")
    if not socket or socket != value(l_env, "LITESTREAM_SOCKET"):
        problems.append(f"node: NODE_LITESTREAM_SOCKET {socket!r} is not {what}'s LITESTREAM_SOCKET")
    else:
        n_mount, l_mount = mount_at(node, socket), mount_at(stream, socket)
        if not n_mount or n_mount.get("name") != l_mount.get("name") \
                or "emptyDir" not in volumes.get(n_mount["name"], {}):
            problems.append(f"node, {what}: the socket {socket} is not on an emptyDir both mount")
    probe = ((stream.get("livenessProbe") or {}).get("exec") or {}).get("command") or []
    if probe[:2] != ["litestream", "info"] or "-socket" not in probe \
            or probe[probe.index("-socket") + 1:][:1] != [value(l_env, "LITESTREAM_SOCKET")]:
        problems.append(f"{what}: liveness does not ask its socket (litestream info -socket): {probe}")

    # The configuration: one file, from a ConfigMap both mount, the repository's.
    command = stream["command"]
    config = command[command.index("-config") + 1] if "-config" in command[:-1] else None
    if not config or config != value(n_env, "NODE_LITESTREAM_CONFIG"):
        problems.append(f"node: NODE_LITESTREAM_CONFIG {value(n_env, 'NODE_LITESTREAM_CONFIG')!r}"
                        f" is not {what}'s -config {config}")
    else:
        n_mount, l_mount = mount_at(node, config), mount_at(stream, config)
        volume = volumes.get(l_mount.get("name"), {}).get("configMap")
        if not l_mount or n_mount.get("name") != l_mount.get("name") or n_mount["mountPath"] != l_mount["mountPath"] \
                or not volume or not n_mount.get("readOnly") or not l_mount.get("readOnly"):
            problems.append(f"node, {what}: {config} is not from a ConfigMap volume both mount read-only")
        else:
            key = posixpath.relpath(config, l_mount["mountPath"])
            for item in volume.get("items") or []:
                if item.get("path") == key:
                    key = item.get("key")
            data = (config_maps.get(volume.get("name"), {}).get("data") or {}).get(key)
            with open(LITESTREAM_CONFIG) as handle:
                expected = handle.read()
            if data is None:
                problems.append(f"{what}: no ConfigMap {volume.get('name')} with {key} for {config}")
            elif data != expected:
                problems.append(f"{what}: ConfigMap {volume.get('name')} {key} is not deploy/litestream/litestream.yml")
            else:
                for name in sorted(set(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", data))):
                    for who, env in (("node", n_env), (what, l_env)):
                        if name not in env:
                            problems.append(f"{who}: litestream.yml reads {name}, not set")

    # The replica: one per pod; a file replica on a claim of its own.
    url = str(value(l_env, "LITESTREAM_REPLICA_URL") or "")
    if not any((l_env.get(ref, {}).get("valueFrom", {}).get("fieldRef") or {}).get("fieldPath") == "metadata.name"
               for ref in REFERENCE.findall(url)):
        problems.append(f"{what}: LITESTREAM_REPLICA_URL {url!r} does not name the pod: one replica for every pod")
    default = urlsplit(resolved(l_env, "LITESTREAM_REPLICA_URL", config_maps) or "")
    if default.scheme == "file":
        l_mount, n_mount = mount_at(stream, default.path), mount_at(node, default.path)
        if l_mount.get("name") not in claims or l_mount.get("readOnly"):
            problems.append(f"{what}: the file replica {default.path} is not on a writable claim")
        elif l_mount.get("name") == l_data.get("name"):
            problems.append(f"{what}: the file replica {default.path} is on the data volume: no copy at all")
        elif n_mount.get("name") != l_mount.get("name") or n_mount.get("mountPath") != l_mount.get("mountPath"):
            problems.append(f"node: cannot read its file replica {default.path} (restore): not the same claim there")
    elif default.scheme != "s3":
        problems.append(f"{what}: the replica {default.geturl()!r} is neither file:// nor s3://")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        ref = (l_env.get(name, {}).get("valueFrom") or {}).get("secretKeyRef") or {}
        if ref.get("name") != S3_SECRET or ref.get("optional") is not True:
            problems.append(f"{what}: {name} is not from the optional Secret {S3_SECRET}")


def main():
    objects = [o for o in yaml.safe_load_all(sys.stdin) if o]
    problems = []
    for o in objects:
        if o.get("kind") not in KINDS:
            problems.append(f"unexpected object {o.get('kind')}/{o.get('metadata', {}).get('name')}")
    nodes = only(objects, "StatefulSet", problems)
    balancer = only(objects, "Deployment", problems)
    services = [o for o in objects if o["kind"] == "Service"]
    headless = [s for s in services if s["spec"].get("clusterIP") == "None"]
    if len(headless) != 1:
        problems.append(f"expected one headless Service (clusterIP: None), found {len(headless)}")
    if not nodes or not balancer:
        return report(problems)

    # --- the nodes ----------------------------------------------------------
    node_spec, node_labels, node = pod_of(nodes, "node")
    if node is None:
        problems.append("the StatefulSet runs no `node` container")
        return report(problems)
    if not matches(nodes["spec"]["selector"], node_labels):
        problems.append("StatefulSet: its selector does not match its pod labels")
    env = env_of(node)
    node_port = int(value(env, "NODE_PORT") or 0)
    program_problems("node", node_spec, node, node_port, "NODE", problems)
    if node_port != 5000:
        problems.append(f"node: NODE_PORT is {node_port}, not 5000")
    if (env.get("NODE_NAME", {}).get("valueFrom", {}).get("fieldRef") or {}).get("fieldPath") != "metadata.name":
        problems.append("node: NODE_NAME is not the pod name (fieldRef metadata.name)")
    mounts = {m["mountPath"]: m for m in node.get("volumeMounts") or []}
    volumes = {v["name"]: v for v in node_spec.get("volumes") or []}
    claims = {c["metadata"]["name"] for c in nodes["spec"].get("volumeClaimTemplates") or []}
    if mounts.get("/data", {}).get("name") not in claims:
        problems.append("node: /data is not a volumeClaimTemplates volume")
    if not str(value(env, "NODE_DATABASE") or "").startswith("/data/"):
        problems.append("node: NODE_DATABASE is not on /data")
    proc = mounts.get("/host/proc", {})
    if (volumes.get(proc.get("name"), {}).get("hostPath") or {}).get("path") != "/proc" or not proc.get("readOnly"):
        problems.append("node: the host's /proc is not mounted read-only (hostPath) at /host/proc")
    if value(env, "NODE_PROC") != "/host/proc" or value(env, "NODE_SO_INFO") != "/host/proc/so_info":
        problems.append("node: NODE_PROC / NODE_SO_INFO do not point at /host/proc")
    if ((node.get("readinessProbe") or {}).get("httpGet") or {}).get("path") != "/health":
        problems.append("node: readiness is not GET /health")
    if ((node.get("livenessProbe") or {}).get("httpGet") or {}).get("path") == "/health":
        problems.append("node: liveness on /health restarts a node whose disk is full (503); use /usage or TCP")
    config_maps = {o["metadata"]["name"]: o for o in objects if o["kind"] == "ConfigMap"}
    litestream_problems(nodes, node_spec, node, config_maps, problems)

    # --- the headless Service the balancer resolves ---------------------------
    service = headless[0] if len(headless) == 1 else None
    if service:
        name = service["metadata"]["name"]
        namespace = service["metadata"].get("namespace")
        ports = service["spec"].get("ports") or []
        if nodes["spec"].get("serviceName") != name:
            problems.append(f"StatefulSet serviceName {nodes['spec'].get('serviceName')!r} is not the headless Service {name!r}")
        if not matches(service["spec"].get("selector"), node_labels):
            problems.append(f"Service {name}: its selector does not match the StatefulSet's pod labels")
        for p in ports:
            if container_port(node, p.get("targetPort", p["port"])) != node_port:
                problems.append(f"Service {name}: port {p['port']} does not reach the node's port {node_port}")
        b_env = env_of(balancer["spec"]["template"]["spec"]["containers"][0])
        targets = [t.strip() for t in str(value(b_env, "BALANCER_NODE_DNS") or "").split(",") if t.strip()]
        if not targets:
            problems.append("balancer: BALANCER_NODE_DNS is not set")
        for target in targets:
            host, _, port = target.rpartition(":")
            labels = host.split(".")
            suffixes = ([], ["svc"], ["svc", "cluster", "local"])
            if not (labels[0] == name and (len(labels) == 1 or (
                    (namespace is None or labels[1] == namespace) and labels[2:] in suffixes))):
                problems.append(f"balancer: BALANCER_NODE_DNS host {host!r} is not the headless Service {name!r}")
            if not port.isdigit() or int(port) not in {p["port"] for p in ports} or int(port) != node_port:
                problems.append(f"balancer: BALANCER_NODE_DNS port {port!r} is not the Service's and the node's port {node_port}")

    # --- the balancer ------------------------------------------------------------
    b_spec, b_labels, b_container = pod_of(balancer, "balancer")
    if b_container is None:
        problems.append("the Deployment runs no `balancer` container")
        return report(problems)
    program_problems("balancer", b_spec, b_container, 4999, "BALANCER", problems)
    if any(c.get("command", [])[:1] == ["litestream"] for c in b_spec["containers"]):
        problems.append("balancer: runs litestream (it has no database)")
    if balancer["spec"].get("replicas") != 2:
        problems.append(f"balancer: {balancer['spec'].get('replicas')} replicas, not 2")
    if not matches(balancer["spec"]["selector"], b_labels):
        problems.append("Deployment: its selector does not match its pod labels")
    fronts = [s for s in services if matches(s["spec"].get("selector"), b_labels)]
    if len(fronts) != 1:
        problems.append(f"expected one Service selecting the balancer pods, found {len(fronts)}")
    for front in fronts:
        if front["spec"].get("type", "ClusterIP") != "ClusterIP" or front["spec"].get("clusterIP") == "None":
            problems.append(f"Service {front['metadata']['name']}: not a ClusterIP Service")
        for p in front["spec"].get("ports") or []:
            if p["port"] != 4999 or container_port(b_container, p.get("targetPort", p["port"])) != 4999:
                problems.append(f"Service {front['metadata']['name']}: port {p['port']} is not 4999 to the balancer's 4999")

    # --- disruption budgets ---------------------------------------------------------
    budgets = [o for o in objects if o["kind"] == "PodDisruptionBudget"]
    for budget in budgets:
        if not (matches(budget["spec"].get("selector"), node_labels) or matches(budget["spec"].get("selector"), b_labels)):
            problems.append(f"PodDisruptionBudget {budget['metadata']['name']}: selects no workload's pods")
    if not any(matches(b["spec"].get("selector"), node_labels) for b in budgets):
        problems.append("no PodDisruptionBudget for the nodes")
    return report(problems)


def report(problems):
    for problem in problems:
        print(f"  {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
