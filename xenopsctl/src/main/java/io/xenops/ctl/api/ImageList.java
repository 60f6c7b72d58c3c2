package io.xenops.ctl.api;

import java.util.List;

public record ImageList(List<Image> images) {
    public ImageList {
        images = images == null ? List.of() : List.copyOf(images);
    }
}
