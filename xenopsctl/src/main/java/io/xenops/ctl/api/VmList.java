package io.xenops.ctl.api;

import java.util.List;

public record VmList(List<Vm> vms) {
    public VmList {
        vms = vms == null ? List.of() : List.copyOf(vms);
    }
}
