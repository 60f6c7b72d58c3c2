package io.xenops.ctl.cmd;

import com.github.tomakehurst.wiremock.junit5.WireMockExtension;
import io.xenops.ctl.WireMockCli;
import io.xenops.ctl.XenopsCtl;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Clock;
import java.util.Map;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.delete;
import static com.github.tomakehurst.wiremock.client.WireMock.deleteRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static org.assertj.core.api.Assertions.assertThat;

/** The Ctrl-C path of pull/push: a JVM shutdown hook cannot be triggered in-process, so it is run directly. */
class TaskFollowerTest {
    private static final String TASK_ID = "task-00000000abcd";

    @RegisterExtension
    static WireMockExtension wm = WireMockCli.server();

    @Test
    void theShutdownHookCancelsTheTaskOnTheDaemon() throws InterruptedException {
        wm.stubFor(delete("/v1/tasks/" + TASK_ID).willReturn(okJson("{\"id\":\"" + TASK_ID + "\",\"kind\":\"image-pull\","
                + "\"subject\":\"r\",\"state\":\"cancelled\",\"progress\":0.3,\"created_at\":\"2026-11-26T23:29:00Z\"}")));
        StringWriter err = new StringWriter();
        try (XenopsCtl root = new XenopsCtl(Map.of("XENOPS_URL", wm.getRuntimeInfo().getHttpBaseUrl()), Clock.systemUTC())) {
            Thread hook = TaskFollower.cancelHook(root.api(), TASK_ID, new PrintWriter(err));
            hook.start();
            hook.join();
        }

        wm.verify(1, deleteRequestedFor(urlEqualTo("/v1/tasks/" + TASK_ID)));
        assertThat(err.toString()).isEqualTo("\nxenopsctl: cancelled task " + TASK_ID + "\n");
    }

    @Test
    void aHookThatCannotCancelSaysWhy() throws InterruptedException {
        wm.stubFor(delete("/v1/tasks/" + TASK_ID).willReturn(aResponse().withStatus(404)
                .withHeader("Content-Type", "application/problem+json")
                .withBody("{\"title\":\"Not found\",\"status\":404,\"detail\":\"no task '" + TASK_ID + "'\"}")));
        StringWriter err = new StringWriter();
        try (XenopsCtl root = new XenopsCtl(Map.of("XENOPS_URL", wm.getRuntimeInfo().getHttpBaseUrl()), Clock.systemUTC())) {
            Thread hook = TaskFollower.cancelHook(root.api(), TASK_ID, new PrintWriter(err));
            hook.start();
            hook.join();
        }

        assertThat(err.toString()).contains("could not cancel task " + TASK_ID + ": no task '" + TASK_ID + "' (404)");
    }
}
