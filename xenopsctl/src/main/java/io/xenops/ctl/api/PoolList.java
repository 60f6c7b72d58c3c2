package io.xenops.ctl.api;

import java.util.List;

public record PoolList(List<Pool> pools) {
    public PoolList {
        pools = pools == null ? List.of() : List.copyOf(pools);
    }
}
