"""The models the store knows: each id's preset and where its files sit in a release (the hub repo's layout).

Every release file name the studio relies on is in this table, so a renamed file upstream is a one-line fix.
"""

from __future__ import annotations

from dataclasses import dataclass

RELEASE_REPO = "FoundationVision/InfinityStar"
VAE_FILE = "infinitystar_videovae.pth"
T5_DIR = "text_encoder/flan-t5-xl-official"


@dataclass(frozen=True)
class CatalogueEntry:
    """One installable model: `weights_dir` holds the transformer's shards and their index, safetensors or torch."""

    model_id: str
    preset: str
    repo: str
    weights_dir: str
    vae_file: str = VAE_FILE
    text_encoder_dir: str | None = T5_DIR
    for_tests: bool = False
    builtin: bool = False  # shipped in resources/models, trained by this project; nothing to download

    def layout(self) -> list[str]:
        """The release paths this model takes, folders ending in '/'."""
        folders = [f"{self.text_encoder_dir}/"] if self.text_encoder_dir else []
        return [f"{self.weights_dir}/", self.vae_file, *folders]


CATALOGUE: dict[str, CatalogueEntry] = {
    e.model_id: e
    for e in (
        CatalogueEntry("infinitystar-8b-720p", "infinitystar-8b-720p", RELEASE_REPO, "infinitystar_8b_720p_weights"),
        CatalogueEntry("infinitystar-8b-480p", "infinitystar-8b-480p", RELEASE_REPO, "infinitystar_8b_480p_weights"),
        CatalogueEntry("toyworld", "toyworld", "infinitystar-studio/toyworld", "transformer",
                       text_encoder_dir="text_encoder", builtin=True),
        # Test sizes: not published anywhere; tests build release folders (or a fake hub) with this layout.
        CatalogueEntry("tiny-a", "tiny-a", "infinitystar-studio/tiny-a", "tiny_a_weights",
                       text_encoder_dir=None, for_tests=True),
        CatalogueEntry("test-micro", "test-micro", "infinitystar-studio/test-micro", "test_micro_weights",
                       text_encoder_dir=None, for_tests=True),
        # The 8B's release layout, T5 folder included, at the test size (engine.weights.random_release writes it).
        CatalogueEntry("test-micro-t5", "test-micro-t5", "infinitystar-studio/test-micro-t5", "test_micro_t5_weights",
                       for_tests=True),
    )
}
