// A model file's configuration is checked before the model is built from it: a hand-edited
// temperature of 0 used to trap in the Gumbel-softmax, a huge code count in an allocation.

import Testing

@testable import TabGAN

@Suite struct ConfigChecks {
  @Test func theDefaultsAndTrainableSettingsPass() {
    #expect(GANConfig().problem == nil)
    var config = GANConfig()
    config.categoricalCode = 0
    config.continuousCodes = 0
    config.batch = 2
    config.pac = 1
    #expect(config.problem == nil)
  }

  @Test func editedValuesAreNamed() {
    var config = GANConfig()
    config.temperature = 0
    #expect(config.problem == "temperature 0.0")
    config = GANConfig()
    config.categoricalCode = 1_000_000_000_000
    #expect(config.problem?.hasPrefix("codes cat:") == true)
    config = GANConfig()
    config.batch = 501
    #expect(config.problem == "batch 501, pac 10")
    config = GANConfig()
    config.criticWidths = [256, 0]
    #expect(config.problem == "layer widths")
  }
}
