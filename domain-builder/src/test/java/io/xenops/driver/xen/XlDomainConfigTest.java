package io.xenops.driver.xen;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class XlDomainConfigTest {
    private static final String U = "6f1c2a9e-0b7d-4c55-9a1e-3d2f8b4c7e10";

    @Test
    void rendersAPausedReadyPvhDomainWithoutDevices() {
        String cfg = new XlDomainConfig("xenops-a1", U, "pvh", Path.of("/images/hello/kernel.elf"), 4, 1, "xenops.id=a1").render();
        assertThat(cfg.lines()).contains(
                "name = \"xenops-a1\"",
                "uuid = \"" + U + "\"",
                "type = \"pvh\"",
                "kernel = \"/images/hello/kernel.elf\"",
                "cmdline = \"xenops.id=a1\"",
                "memory = 4",
                "maxmem = 4",
                "vcpus = 1",
                "on_poweroff = \"preserve\"",
                "on_crash = \"preserve\"",
                "on_reboot = \"preserve\"");
        assertThat(cfg).doesNotContain("disk").doesNotContain("vif");
    }

    @Test
    void refusesWhatXlCfgCannotQuote() {
        assertThatThrownBy(() -> new XlDomainConfig("x\"y", U, "pv", Path.of("/k"), 4, 1, "")).hasMessageContaining("quote");
        assertThatThrownBy(() -> new XlDomainConfig("x", U, "pv", Path.of("/k"), 4, 1, "a\nb")).hasMessageContaining("quote");
        assertThatThrownBy(() -> new XlDomainConfig("x", U, "hvm", Path.of("/k"), 4, 1, "")).hasMessageContaining("pvh or pv");
        assertThatThrownBy(() -> new XlDomainConfig("x", U, "pv", Path.of("k"), 4, 1, "")).hasMessageContaining("absolute");
        assertThatThrownBy(() -> new XlDomainConfig("x", "not-a-uuid\"", "pv", Path.of("/k"), 4, 1, "")).hasMessageContaining("UUID");
    }
}
