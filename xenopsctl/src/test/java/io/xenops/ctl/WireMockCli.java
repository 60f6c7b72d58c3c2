package io.xenops.ctl;

import com.github.tomakehurst.wiremock.junit5.WireMockExtension;

import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig;

/** A WireMock server per test class, standing in for xenopsd. */
public final class WireMockCli {
    private WireMockCli() {
    }

    public static WireMockExtension server() {
        return WireMockExtension.newInstance().options(wireMockConfig().dynamicPort()).build();
    }

    public static CliRun cli(WireMockExtension wm) {
        return CliRun.against(wm.getRuntimeInfo().getHttpBaseUrl());
    }
}
