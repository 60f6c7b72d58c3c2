package io.xenops.driver.xen;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class XlDomainConfigTest {
    @Test
    void rendersAPausedReadyPvhDomainWithoutDevices() {
        String cfg = new XlDomainConfig("xenops-a1", "pvh", Path.of("/images/hello/kernel.elf"), 4, 1, "xenops.id=a1").render();
        assertThat(cfg.lines()).contains(
                "name = \"xenops-a1\"",
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
        assertThatThrownBy(() -> new XlDomainConfig("x\"y", "pv", Path.of("/k"), 4, 1, "")).hasMessageContaining("quote");
        assertThatThrownBy(() -> new XlDomainConfig("x", "pv", Path.of("/k"), 4, 1, "a\nb")).hasMessageContaining("quote");
        assertThatThrownBy(() -> new XlDomainConfig("x", "hvm", Path.of("/k"), 4, 1, "")).hasMessageContaining("pvh or pv");
        assertThatThrownBy(() -> new XlDomainConfig("x", "pv", Path.of("k"), 4, 1, "")).hasMessageContaining("absolute");
    }
}
