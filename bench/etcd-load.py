# Usage: python3 bench/etcd-load.py CLIENT_PORT PEER_PORT MAP_BYTES (free loopback ports; starts and removes its own etcd).
# Bounded etcd load on loopback: 100 leases kept alive every TTL/4 (200 renewals/s at TTL 2 s),
# 100 watchers on the map prefix, 20 puts of a real-size map; reports etcd CPU and latencies.
import base64, http.client, json, os, subprocess, sys, threading, time
PORT, PEER, SIZE = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
d = "/tmp/rdmakv-etcd-load"
subprocess.run(["rm", "-rf", d])
url = f"http://127.0.0.1:{PORT}"
etcd = subprocess.Popen(["/usr/bin/etcd", "--name", "s", "--data-dir", d, "--listen-client-urls", url, "--advertise-client-urls", url,
    "--listen-peer-urls", f"http://127.0.0.1:{PEER}", "--initial-advertise-peer-urls", f"http://127.0.0.1:{PEER}",
    "--initial-cluster", f"s=http://127.0.0.1:{PEER}", "--log-level", "warn", "--logger", "zap"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
b64 = lambda s: base64.b64encode(s if isinstance(s, bytes) else s.encode()).decode()
def call(conn, path, body):
    conn.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
    r = conn.getresponse(); return json.loads(r.read())
def cpu():
    f = open(f"/proc/{etcd.pid}/stat").read().split(")")[1].split(); return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
try:
    for _ in range(100):
        try: c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=5); call(c, "/v3/maintenance/status", {}); break
        except Exception: time.sleep(0.1)
    leases = [int(call(c, "/v3/lease/grant", {"TTL": 2})["ID"]) for _ in range(100)]
    got = []; lock = threading.Lock(); stop = False
    def watch():
        w = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
        w.request("POST", "/v3/watch", json.dumps({"create_request": {"key": b64("/rdmakv/"), "range_end": b64("/rdmakv0")}}))
        r = w.getresponse()
        while not stop:
            line = r.readline()
            if not line: break
            ev = json.loads(line).get("result", {}).get("events")
            if ev:
                with lock: got.append(time.monotonic())
    ws = [threading.Thread(target=watch, daemon=True) for _ in range(100)]
    for t in ws: t.start()
    time.sleep(1)
    # keepalives: 200/s for 10 s over one connection
    c0, t0 = cpu(), time.monotonic(); lat = []
    for i in range(2000):
        s = time.monotonic(); call(c, "/v3/lease/keepalive", {"ID": leases[i % 100]}); lat.append(time.monotonic() - s)
        nxt = t0 + (i + 1) / 200
        if nxt > time.monotonic(): time.sleep(nxt - time.monotonic())
    el = time.monotonic() - t0; c1 = cpu(); lat.sort()
    print(f"keepalives: 2000 in {el:.1f} s ({2000/el:.0f}/s), etcd CPU {100*(c1-c0)/el:.1f}% of a core, latency p50 {lat[1000]*1e3:.2f} ms p99 {lat[1980]*1e3:.2f} ms")
    value = b64("x" * SIZE); put = []; fan = []
    c0, t0 = cpu(), time.monotonic()
    for i in range(20):
        with lock: got.clear()
        s = time.monotonic(); call(c, "/v3/kv/put", {"key": b64("/rdmakv/map"), "value": value}); put.append(time.monotonic() - s)
        while True:
            with lock:
                if len(got) >= 100: fan.append(max(got) - s); break
            if time.monotonic() - s > 10: fan.append(float("nan")); break
            time.sleep(0.001)
        for k in range(25): call(c, "/v3/lease/keepalive", {"ID": leases[(i * 25 + k) % 100]})
    el = time.monotonic() - t0; c1 = cpu(); put.sort(); fan.sort()
    print(f"map puts of {SIZE} B with 100 watchers: put p50 {put[10]*1e3:.1f} ms max {put[-1]*1e3:.1f} ms; last of 100 watchers notified p50 {fan[10]*1e3:.1f} ms max {fan[-1]*1e3:.1f} ms; etcd CPU {100*(c1-c0)/el:.1f}% over {el:.1f} s")
    print(f"etcd RSS {int([l for l in open(f'/proc/{etcd.pid}/status') if l.startswith('VmRSS')][0].split()[1])//1024} MiB")
    stop = True
finally:
    etcd.terminate(); etcd.wait(10); subprocess.run(["rm", "-rf", d])
