"""A real gRPC server with the standard health service, for podtui's gRPC probe test.

usage: grpc_health_server.py PORT CONTROL_FILE
Serves grpc.health.v1.Health on 127.0.0.1:PORT. The status of "" and of "health" is SERVING, or whatever
CONTROL_FILE contains (SERVING / NOT_SERVING), re-read every 100 ms. Prints "ready" when listening.
"""
import sys
import time
from concurrent import futures

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

port, control = int(sys.argv[1]), sys.argv[2]
server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
servicer = health.HealthServicer()
health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
server.add_insecure_port(f"127.0.0.1:{port}")
server.start()
print("ready", flush=True)
status = None
while True:
    try:
        want = open(control).read().strip() or "SERVING"
    except OSError:
        want = "SERVING"
    if want != status:
        status = want
        value = getattr(health_pb2.HealthCheckResponse, status)
        servicer.set("", value)
        servicer.set("health", value)
    time.sleep(0.1)
