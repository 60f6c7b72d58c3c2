package io.xenops.image.oci;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder;
import com.github.tomakehurst.wiremock.extension.ResponseDefinitionTransformerV2;
import com.github.tomakehurst.wiremock.http.ResponseDefinition;
import com.github.tomakehurst.wiremock.stubbing.ServeEvent;
import io.xenops.image.Digests;
import io.xenops.image.TestElf;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A registry made of WireMock stubs, for the failures a real one will not produce on demand. Blob stubs
 * given the "range" transformer answer {@code Range: bytes=N-} with a 206 slice, as a real registry does.
 */
final class FakeRegistry implements AutoCloseable {
    static final String REPO = "apps/hello";
    final WireMockServer wm;
    final byte[] kernel;
    final byte[] config;
    byte[] manifest;

    FakeRegistry(int kernelPayload) {
        wm = new WireMockServer(options().dynamicPort().bindAddress("127.0.0.1").extensions(new RangeSlicer()));
        wm.start();
        kernel = TestElf.both().payload(kernelPayload).seed(77).build();
        config = "{\"name\":\"hello\",\"version\":\"0.1.0\",\"memory_mib\":4,\"vcpus\":1,\"boot_modes\":[\"pvh\",\"pv\"],\"cmdline\":\"\",\"readiness\":\"console\"}"
                .getBytes(java.nio.charset.StandardCharsets.UTF_8);
        manifest = manifest(MediaTypes.CONFIG, Digests.of(config), config.length, Digests.of(kernel), kernel.length);
    }

    static byte[] manifest(String configType, String configDigest, long configSize, String kernelDigest, long kernelSize) {
        try {
            return new ObjectMapper().writeValueAsBytes(Map.of(
                    "schemaVersion", 2,
                    "mediaType", MediaTypes.OCI_MANIFEST,
                    "config", Map.of("mediaType", configType, "digest", configDigest, "size", configSize),
                    "layers", List.of(Map.of("mediaType", MediaTypes.KERNEL, "digest", kernelDigest, "size", kernelSize))));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    String host() { return "127.0.0.1:" + wm.port(); }

    String ref() { return host() + "/" + REPO + ":0.1.0"; }

    String manifestUrl() { return "/v2/" + REPO + "/manifests/0.1.0"; }

    String kernelUrl() { return "/v2/" + REPO + "/blobs/" + Digests.of(kernel); }

    String configUrl() { return "/v2/" + REPO + "/blobs/" + Digests.of(config); }

    /** Stubs a registry that serves the image correctly. */
    FakeRegistry healthy() {
        wm.stubFor(get(urlEqualTo(manifestUrl())).willReturn(manifestResponse()));
        wm.stubFor(get(urlEqualTo(configUrl())).willReturn(blob(config)));
        wm.stubFor(get(urlEqualTo(kernelUrl())).willReturn(blob(kernel)));
        return this;
    }

    ResponseDefinitionBuilder manifestResponse() {
        return aResponse().withStatus(200).withHeader("Content-Type", MediaTypes.OCI_MANIFEST)
                .withHeader("Docker-Content-Digest", Digests.of(manifest)).withBody(manifest);
    }

    static ResponseDefinitionBuilder blob(byte[] data) {
        return aResponse().withStatus(200).withHeader("Content-Type", "application/octet-stream")
                .withHeader("Accept-Ranges", "bytes").withBody(data).withTransformers(RangeSlicer.NAME);
    }

    @Override
    public void close() { wm.stop(); }

    /** Serves {@code Range: bytes=N-} of a stubbed body as a 206, keeping the stub's delays and faults. */
    static final class RangeSlicer implements ResponseDefinitionTransformerV2 {
        static final String NAME = "range";
        private static final Pattern RANGE = Pattern.compile("bytes=(\\d+)-");

        @Override
        public String getName() { return NAME; }

        @Override
        public boolean applyGlobally() { return false; }

        @Override
        public ResponseDefinition transform(ServeEvent event) {
            ResponseDefinition def = event.getResponseDefinition();
            String range = event.getRequest().getHeader("Range");
            if (range == null || def.getStatus() != 200) return def;
            Matcher m = RANGE.matcher(range);
            byte[] body = def.getByteBody();
            if (!m.matches() || body == null) return def;
            int from = Integer.parseInt(m.group(1));
            if (from >= body.length) return ResponseDefinitionBuilder.like(def).but().withStatus(416).withBody(new byte[0]).build();
            byte[] slice = java.util.Arrays.copyOfRange(body, from, body.length);
            return ResponseDefinitionBuilder.like(def).but().withStatus(206)
                    .withHeader("Content-Range", "bytes " + from + "-" + (body.length - 1) + "/" + body.length)
                    .withBody(slice).build();
        }
    }
}
