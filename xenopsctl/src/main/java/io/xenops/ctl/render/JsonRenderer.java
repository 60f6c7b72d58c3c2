package io.xenops.ctl.render;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.core.util.Separators;
import io.xenops.ctl.api.ApiException;
import io.xenops.ctl.api.Fetched;
import io.xenops.ctl.api.GcResult;
import io.xenops.ctl.api.Health;
import io.xenops.ctl.api.Image;
import io.xenops.ctl.api.ImageDetails;
import io.xenops.ctl.api.ImageList;
import io.xenops.ctl.api.Invocation;
import io.xenops.ctl.api.Pool;
import io.xenops.ctl.api.PoolList;
import io.xenops.ctl.api.Task;
import io.xenops.ctl.api.UnexpectedResponseException;
import io.xenops.ctl.api.Vm;
import io.xenops.ctl.api.VmList;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;

/**
 * Output for scripts: the API's JSON as the daemon sent it, re-indented but never re-mapped, so
 * fields this CLI does not know yet still come through. Only Jackson's streaming layer is used.
 */
public final class JsonRenderer implements Renderer {
    private final PrintWriter out;
    private final boolean pretty;
    private final JsonFactory factory = new JsonFactory();

    /** @param pretty indented (for reading) or one line per document (for line-oriented tools) */
    public JsonRenderer(PrintWriter out, boolean pretty) {
        this.out = out;
        this.pretty = pretty;
    }

    @Override
    public void spawned(Fetched<Vm> vm) {
        print(vm.body());
    }

    @Override
    public void vm(Fetched<Vm> vm) {
        print(vm.body());
    }

    @Override
    public void vms(Fetched<VmList> vms) {
        print(vms.body());
    }

    @Override
    public void destroyed(String id) {
        // DELETE answers 204 with no body: there is no JSON to pass on, and the exit code says it all.
    }

    @Override
    public void pools(Fetched<PoolList> pools) {
        print(pools.body());
    }

    @Override
    public void pool(Fetched<Pool> pool) {
        print(pool.body());
    }

    @Override
    public void images(Fetched<ImageList> images) {
        print(images.body());
    }

    @Override
    public void invoked(Fetched<Invocation> invocation) {
        print(invocation.body());
    }

    @Override
    public void image(Fetched<ImageDetails> image) {
        print(image.body());
    }

    @Override
    public void imported(Fetched<Image> image) {
        print(image.body());
    }

    @Override
    public void taskDone(Fetched<Task> task) {
        // The finished task, result included: what a script polling /v1/tasks/{id} would have seen.
        print(task.body());
    }

    @Override
    public void imageRemoved(String name) {
        // 204 with no body, as for destroy.
    }

    @Override
    public void gc(Fetched<GcResult> result) {
        print(result.body());
    }

    @Override
    public void health(Fetched<Health> health) {
        print(health.body());
    }

    @Override
    public void version(String client, Fetched<Health> daemon) {
        // The API has no version document, so this one is the CLI's own: its version beside /v1/health.
        StringWriter buf = new StringWriter();
        try (JsonGenerator g = generator(buf)) {
            g.writeStartObject();
            g.writeStringField("xenopsctl", client);
            if (daemon != null) {
                g.writeFieldName("xenopsd");
                copy(daemon.body(), g);
            }
            g.writeEndObject();
        } catch (IOException e) {
            throw new UnexpectedResponseException("xenopsd sent invalid JSON: " + e.getMessage(), e);
        }
        out.println(buf);
        out.flush();
    }

    @Override
    public void problem(ApiException e) {
        // Scripts get the problem document itself (its `type` is the stable error code).
        if (e.problem() != null) {
            print(e.body());
        }
    }

    private void print(String json) {
        StringWriter buf = new StringWriter(json.length() + 64);
        try (JsonGenerator g = generator(buf)) {
            copy(json, g);
        } catch (IOException e) {
            throw new UnexpectedResponseException("xenopsd sent invalid JSON: " + e.getMessage(), e);
        }
        out.println(buf);
        out.flush();
    }

    private void copy(String json, JsonGenerator g) throws IOException {
        try (JsonParser p = factory.createParser(json)) {
            if (p.nextToken() == null) {
                throw new IOException("empty body");
            }
            // Exact: keeps numbers as written instead of round-tripping them through double.
            g.copyCurrentStructureExact(p);
            if (p.nextToken() != null) {
                throw new IOException("trailing content after the JSON document");
            }
        }
    }

    private JsonGenerator generator(StringWriter buf) throws IOException {
        JsonGenerator g = factory.createGenerator(buf);
        if (pretty) {
            // jq's layout: two spaces, "key": value, empty containers as [] and {}.
            Separators separators = Separators.createDefaultInstance()
                    .withObjectFieldValueSpacing(Separators.Spacing.AFTER)
                    .withObjectEmptySeparator("")
                    .withArrayEmptySeparator("");
            DefaultPrettyPrinter printer = new DefaultPrettyPrinter(separators)
                    .withObjectIndenter(DefaultIndenter.SYSTEM_LINEFEED_INSTANCE.withLinefeed("\n"))
                    .withArrayIndenter(DefaultIndenter.SYSTEM_LINEFEED_INSTANCE.withLinefeed("\n"));
            g.setPrettyPrinter(printer);
        }
        return g;
    }
}
