package io.xenops.ctl.api;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class JsonCodecTest {
    private final JsonCodec json = new JsonCodec();

    @Test
    void fillsRecordsBySnakeCaseNamesAndSkipsUnknownFields() {
        Vm vm = json.read("""
                {"id":"vm-1","image":"hello","state":"running","created_at":"t","result":null,
                 "future":{"deep":[1,{"x":2}]},"exit_reason":"done",
                 "timings":{"path":"warm","taken_us":5000000000,"ready_us":7},
                 "driver":{"kind":"qemu","pid":4242,"kvm":true}}""", Vm.class);

        assertThat(vm).isEqualTo(new Vm("vm-1", "hello", "running", "t", null, "done",
                new Timings("warm", null, 5_000_000_000L, null, 7L, null, null),
                Map.of("kind", "qemu", "pid", "4242", "kvm", "true")));
    }

    @Test
    void readsListsOfRecordsAndOfStrings() {
        ImageList list = json.read("""
                {"images":[{"name":"a","memory_mib":4,"vcpus":1,"boot_modes":["pvh","pv"]},
                           {"name":"b","memory_mib":8,"vcpus":2}]}""", ImageList.class);

        assertThat(list.images()).containsExactly(
                new Image("a", null, null, 4, 1, List.of("pvh", "pv"), null),
                new Image("b", null, null, 8, 2, List.of(), null));
    }

    @Test
    void wrongShapesAreUnexpectedResponsesNamingTheProblem() {
        assertThatThrownBy(() -> json.read("{\"vms\":{}}", VmList.class))
                .isInstanceOf(UnexpectedResponseException.class)
                .hasMessage("xenopsd sent a VmList this xenopsctl cannot read: an object where a list is expected");
        assertThatThrownBy(() -> json.read("{\"image\":\"x\",\"target\":\"4\",\"ready\":1,\"building\":0}", Pool.class))
                .hasMessageEndingWith("text where a whole number is expected");
        assertThatThrownBy(() -> json.read("{\"image\":\"x\",\"ready\":1,\"building\":0}", Pool.class))
                .hasMessageEndingWith("no target");
        assertThatThrownBy(() -> json.read("{\"status\":\"ok\"} []", Health.class))
                .hasMessageEndingWith("trailing content after the document");
        assertThatThrownBy(() -> json.read("null", Health.class)).hasMessageEndingWith("null");
        assertThatThrownBy(() -> json.read("", Health.class)).hasMessageEndingWith("an empty body");
        assertThatThrownBy(() -> json.read("{\"status\":", Health.class))
                .isInstanceOf(UnexpectedResponseException.class)
                .hasMessageStartingWith("xenopsd sent a Health this xenopsctl cannot read: Unexpected end-of-input");
    }

    @Test
    void writesOnlyTheSpawnOptionsThatWereGiven() {
        assertThat(json.write(new SpawnRequest("hello", null, null, null))).isEqualTo("{\"image\":\"hello\"}");
        assertThat(json.write(new SpawnRequest("hello", "ready", "a \"b\"\n", 5000)))
                .isEqualTo("{\"image\":\"hello\",\"wait\":\"ready\",\"args\":\"a \\\"b\\\"\\n\",\"timeout_ms\":5000}");
        assertThat(json.write(new PoolTarget(8))).isEqualTo("{\"target\":8}");
    }

    @Test
    void readsTaskProgressAsWholeOrFractionAndTheResultOfEitherKind() {
        Task pull = json.read("""
                {"id":"task-1","kind":"image-pull","subject":"r","state":"succeeded","progress":1,
                 "result":{"name":"hello","digest":"sha256:aa","boot_modes":["pvh"]},"created_at":"t"}""", Task.class);
        Task push = json.read("""
                {"id":"task-2","kind":"image-push","subject":"hello","state":"running","progress":0.25,
                 "result":{"reference":"r:1","manifest_digest":"sha256:bb","bytes_uploaded":10}}""", Task.class);

        assertThat(pull.progress()).isEqualTo(1.0);
        assertThat(pull.result()).isEqualTo(new TaskResult("hello", "sha256:aa", null, null, null));
        assertThat(push.progress()).isEqualTo(0.25);
        assertThat(push.running()).isTrue();
        assertThat(push.result()).isEqualTo(new TaskResult(null, null, "r:1", "sha256:bb", 10L));
        assertThatThrownBy(() -> json.read("{\"progress\":\"half\"}", Task.class))
                .isInstanceOf(UnexpectedResponseException.class).hasMessageContaining("where a number is expected");
    }

    @Test
    void writesTheInvocationAndImageRequests() {
        assertThat(json.write(new InvocationRequest("hello", null, null))).isEqualTo("{\"image\":\"hello\"}");
        assertThat(json.write(new InvocationRequest("hello", "x y", 100)))
                .isEqualTo("{\"image\":\"hello\",\"input\":\"x y\",\"timeout_ms\":100}");
        assertThat(json.writeStrings("reference", "r:1", "name", null)).isEqualTo("{\"reference\":\"r:1\"}");
        assertThat(json.writeBudget(1L << 40)).isEqualTo("{\"budget_bytes\":1099511627776}");
    }

    @Test
    void snakeCaseMatchesTheApiNames() {
        assertThat(JsonCodec.snakeCase("memoryMib")).isEqualTo("memory_mib");
        assertThat(JsonCodec.snakeCase("requestId")).isEqualTo("request_id");
        assertThat(JsonCodec.snakeCase("id")).isEqualTo("id");
    }
}
