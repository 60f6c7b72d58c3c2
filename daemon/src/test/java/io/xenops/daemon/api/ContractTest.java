package io.xenops.daemon.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.vertx.core.json.JsonObject;
import io.xenops.daemon.error.XenopsException;
import java.time.Clock;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The written contract and the daemon agree: no route on one side only, no error without its problem type. */
class ContractTest {
    private final Contract contract = new Contract(getClass().getClassLoader());

    private Set<String> specOperations() {
        Set<String> ops = new HashSet<>();
        JsonObject paths = contract.published().getJsonObject("paths");
        for (String p : paths.fieldNames()) {
            JsonObject item = paths.getJsonObject(p);
            for (String method : item.fieldNames()) {
                if (item.getValue(method) instanceof JsonObject op) {
                    assertThat(op.getString("operationId")).as(method + " " + p + " has an operationId").isNotBlank();
                    ops.add(op.getString("operationId"));
                }
            }
        }
        return ops;
    }

    @Test
    void everyOperationHasAHandlerAndEveryHandlerAnOperation() {
        ApiServer api = new ApiServer(null, null, null, null, new ObjectMapper(), null, Clock.systemUTC(), "none", null, null, null);
        assertThat(api.operations().keySet()).containsExactlyInAnyOrderElementsOf(specOperations());
    }

    @Test
    void everyPathButMetricsIsUnderV1() {
        assertThat(contract.published().getJsonObject("paths").fieldNames())
                .allMatch(p -> p.startsWith("/v1/") || p.equals("/metrics"));
    }

    @Test
    void everyProblemTypeIsDocumentedInTheContract() throws Exception {
        String doc = contract.published().getJsonObject("components").getJsonObject("schemas")
                .getJsonObject("Problem").getString("description");
        for (var f : Problems.class.getDeclaredFields()) {
            if (f.getType() == Problems.Kind.class && !f.getName().equals("METHOD")) {
                // METHOD (405) is the router's own answer, not a service error.
                Problems.Kind k = (Problems.Kind) f.get(null);
                assertThat(doc).as(k.type()).contains(k.type() + " (" + k.status() + ")");
            }
        }
    }

    @Test
    void theRouterCopyKeepsEverythingButProblemBodies() {
        JsonObject router = contract.forRouter();
        JsonObject paths = router.getJsonObject("paths");
        for (String p : paths.fieldNames()) {
            for (String m : paths.getJsonObject(p).fieldNames()) {
                if (!(paths.getJsonObject(p).getValue(m) instanceof JsonObject op)) continue;
                JsonObject responses = op.getJsonObject("responses");
                for (String code : responses.fieldNames()) {
                    JsonObject content = responses.getJsonObject(code).getJsonObject("content");
                    if (content != null) {
                        assertThat(content.fieldNames()).as(m + " " + p + " " + code).doesNotContain(Contract.PROBLEM_JSON, "text/event-stream");
                    }
                }
            }
        }
        assertThat(router.getJsonObject("paths").fieldNames()).isEqualTo(contract.published().getJsonObject("paths").fieldNames());
        assertThat(router.getJsonObject("components").getJsonObject("schemas").encode())
                .isEqualTo(contract.published().getJsonObject("components").getJsonObject("schemas").encode());
    }

    @Test
    void everyServiceErrorMapsToOneStatus() {
        assertThat(Problems.of(new XenopsException.UnknownImage("x")).status()).isEqualTo(404);
        assertThat(Problems.of(new XenopsException.CapacityExhausted("x", null)).status()).isEqualTo(503);
        assertThat(Problems.of(new XenopsException.GuestTimeout("x")).status()).isEqualTo(504);
        assertThat(Problems.of(new XenopsException.InvalidRequest("x")).status()).isEqualTo(400);
    }
}
