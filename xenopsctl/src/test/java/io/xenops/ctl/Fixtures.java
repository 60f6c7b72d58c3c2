package io.xenops.ctl;

/** Response bodies shaped like the API spec's examples. */
public final class Fixtures {
    public static final String VM_ID = "vm-3f9c2a7b1d04";

    public static final String SPAWNED_WARM = """
            {"id":"vm-3f9c2a7b1d04","image":"hello","state":"running","created_at":"2026-11-26T23:29:58Z",
             "result":null,"exit_reason":null,
             "timings":{"path":"warm","received_at":"2026-11-26T23:29:58.000100Z","taken_us":37,
                        "resumed_us":412,"ready_us":2301,"responded_us":2350},
             "driver":{"kind":"qemu","pid":"4242","qmp":"/run/xenops/vm-3f9c2a7b1d04/qmp.sock"}}""";

    public static final String SPAWNED_COLD_WITH_RESULT = """
            {"id":"vm-00000000beef","image":"hello","state":"running","created_at":"2026-11-26T23:29:59Z",
             "result":"HELLO world",
             "timings":{"path":"cold","taken_us":45120,"resumed_us":45500,"ready_us":52003,"result_us":52990,
                        "responded_us":53001}}""";

    public static final String VM_LIST = """
            {"vms":[
              {"id":"vm-3f9c2a7b1d04","image":"hello","state":"running","created_at":"2026-11-26T23:29:15Z",
               "timings":{"path":"warm","resumed_us":412}},
              {"id":"vm-00000000beef","image":"hello-world.v2","state":"crashed","created_at":"2026-11-26T20:00:00Z",
               "exit_reason":"triple fault","timings":{"path":"cold","resumed_us":45500}}
            ]}""";

    public static final String POOL_LIST = """
            {"pools":[
              {"image":"hello","target":4,"ready":3,"building":1,"spawned_warm":120,"spawned_cold":2,
               "build_failures":0,"last_error":null},
              {"image":"big","target":10,"ready":0,"building":2,"spawned_warm":7,"spawned_cold":15,
               "build_failures":3,"last_error":"qemu exited: out of memory"}
            ]}""";

    public static final String POOL_HELLO = """
            {"image":"hello","target":8,"ready":3,"building":5}""";

    public static final String IMAGE_LIST = """
            {"images":[
              {"name":"hello","version":"0.1.0",
               "digest":"sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
               "memory_mib":4,"vcpus":1,"boot_modes":["pvh","pv"],"size_bytes":6144}
            ]}""";

    public static final String HEALTH = """
            {"status":"ok","driver":"qemu","accel":"kvm","version":"0.1.0"}""";

    public static final String UNKNOWN_IMAGE = """
            {"type":"urn:xenops:problem:unknown-image","title":"Unknown image","status":404,
             "detail":"unknown image 'nope'","instance":"/v1/vms","request_id":"req-17"}""";

    private Fixtures() {
    }
}
