"""The rendered manifests of deploy/kubernetes as what podman 4.3's
`kube play` can run: Pods (it plays no StatefulSet, and a Deployment's
replicas would all ask for the same host port).

    kubectl kustomize deploy/kubernetes | python3 podman_pods.py OUT_DIR PORT...

Writes into OUT_DIR:
- nodes.yaml: the ConfigMaps (Litestream's configuration and replica
  settings), then for each replica N of the StatefulSet, the
  PersistentVolumeClaims its volumeClaimTemplates would make
  (data-sentence-node-N, backups-sentence-node-N) and the Pod
  sentence-node-N, from the StatefulSet's pod template (the node and its
  Litestream container);
- scaled.yaml: the same for the pod one more replica would add (`kubectl
  scale --replicas=3` makes sentence-node-2), and scaled: its name;
- configmaps: the ConfigMaps' names, one a line (kube play makes a volume of
  each one a pod mounts, which the test removes);
- balancers.yaml: for each replica of the Deployment, a Pod sentence-balancer-N
  from its pod template, its port published on 127.0.0.1:PORT (one PORT per
  replica, given in order);
- service: the headless Service's name, which kube play gives the node pods
  as a network alias (`--network NET:alias=NAME`), so that name resolves to
  every node pod as the Service does in a cluster.

What is changed from the pod templates, because podman 4.3 differs:
- httpGet probes become exec probes running the image's `healthcheck PORT
  PATH` (podman turns httpGet into `curl`, which the image does not have);
  only the liveness probe is kept, the one podman runs (as a healthcheck);
- an emptyDir gets a name of its pod's own (podman makes a named volume of
  it, shared by every pod using the same volume name);
- the nodes' containerPorts go: podman 4.3 publishes a containerPort without
  hostPort on the host, on every interface, at the same number (the pods
  reach each other on the network without it); the balancers' get
  hostIP 127.0.0.1 and a free hostPort;
- an env value's $(VAR) references are expanded here, as the kubelet does
  (podman 4.3 passes them on literally): from the variables listed before it
  with a value, the pod's name (fieldRef metadata.name) or a rendered
  ConfigMap's key; a reference it cannot resolve stays as it is, as in
  Kubernetes. This makes LITESTREAM_REPLICA_URL ROOT/POD-NAME.
Everything else (command, env, security contexts, hostPath, mounts) is kept:
the balancers find the nodes by the rendered BALANCER_NODE_DNS.
"""
import copy
import os
import re
import sys

import yaml


def exec_probe(probe, container):
    get = probe.get("httpGet")
    if not get:
        return probe
    port = get["port"]
    for p in container.get("ports") or []:
        if p.get("name") == port:
            port = p["containerPort"]
    probe = {k: v for k, v in probe.items() if k != "httpGet"}
    probe["exec"] = {"command": ["healthcheck", str(port), get.get("path", "/")]}
    return probe


REFERENCE = re.compile(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)")


def expand_env(container, pod_name, config_maps):
    """$(VAR) in env values, resolved the way the kubelet does."""
    known = {}
    for entry in container.get("env") or []:
        if "value" in entry:
            entry["value"] = REFERENCE.sub(lambda m: known.get(m.group(1), m.group(0)), str(entry["value"]))
            known[entry["name"]] = entry["value"]
            continue
        source = entry.get("valueFrom") or {}
        if (source.get("fieldRef") or {}).get("fieldPath") == "metadata.name":
            known[entry["name"]] = pod_name
        key = source.get("configMapKeyRef")
        if key and key.get("key") in (config_maps.get(key.get("name"), {}).get("data") or {}):
            known[entry["name"]] = str(config_maps[key["name"]]["data"][key["key"]])


def pod_from(template, name, claims=None, config_maps=None):
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": dict(template["metadata"].get("labels") or {})},
        "spec": copy.deepcopy(template["spec"]),
    }
    spec = pod["spec"]
    for container in spec["containers"]:
        expand_env(container, name, config_maps or {})
        for probe in ("readinessProbe", "startupProbe"):
            container.pop(probe, None)
        if "livenessProbe" in container:
            container["livenessProbe"] = exec_probe(container["livenessProbe"], container)
    volumes = spec.setdefault("volumes", [])
    for volume in volumes:
        if "emptyDir" in volume:
            renamed = f"{name}-{volume['name']}"
            for container in spec["containers"]:
                for mount in container.get("volumeMounts") or []:
                    if mount["name"] == volume["name"]:
                        mount["name"] = renamed
            volume["name"] = renamed
    for claim_name, claim in (claims or {}).items():
        volumes.append({"name": claim_name, "persistentVolumeClaim": {"claimName": claim}})
    return pod


def node(sts, index, config_maps):
    """The claims and the Pod of the StatefulSet's replica `index`."""
    name = f"{sts['metadata']['name']}-{index}"
    docs, claims = [], {}
    for template in sts["spec"].get("volumeClaimTemplates") or []:
        claim = f"{template['metadata']['name']}-{name}"
        claims[template["metadata"]["name"]] = claim
        docs.append({
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": {"name": claim, "labels": dict(template["metadata"].get("labels") or {})},
            "spec": template["spec"],
        })
    pod = pod_from(sts["spec"]["template"], name, claims, config_maps)
    for container in pod["spec"]["containers"]:
        container.pop("ports", None)
    return name, docs + [pod]


def main():
    out, ports = sys.argv[1], [int(p) for p in sys.argv[2:]]
    objects = [o for o in yaml.safe_load_all(sys.stdin) if o]
    sts = next(o for o in objects if o["kind"] == "StatefulSet")
    dep = next(o for o in objects if o["kind"] == "Deployment")
    service = next(o for o in objects if o["kind"] == "Service" and o["spec"].get("clusterIP") == "None")
    config_maps = {o["metadata"]["name"]: o for o in objects if o["kind"] == "ConfigMap"}

    replicas = sts["spec"].get("replicas", 1)
    nodes = list(config_maps.values()) + [doc for i in range(replicas) for doc in node(sts, i, config_maps)[1]]
    scaled_name, scaled = node(sts, replicas, config_maps)
    scaled = list(config_maps.values()) + scaled

    replicas = dep["spec"].get("replicas", 1)
    if len(ports) != replicas:
        sys.exit(f"{replicas} balancer replicas need {replicas} host ports, got {len(ports)}")
    balancers = []
    for i in range(replicas):
        pod = pod_from(dep["spec"]["template"], f"{dep['metadata']['name']}-{i}")
        container = next(c for c in pod["spec"]["containers"] if c.get("command", [])[:1] == ["balancer"])
        for p in container.get("ports") or []:
            p["hostIP"], p["hostPort"] = "127.0.0.1", ports[i]
        balancers.append(pod)

    for file, docs in (("nodes.yaml", nodes), ("scaled.yaml", scaled), ("balancers.yaml", balancers)):
        with open(os.path.join(out, file), "w") as f:
            yaml.safe_dump_all(docs, f, sort_keys=False)
    for file, text in (("service", service["metadata"]["name"]), ("scaled", scaled_name),
                       ("configmaps", "\n".join(config_maps))):
        with open(os.path.join(out, file), "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
