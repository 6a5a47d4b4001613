// The VAE's hyperparameters and the token layout it was built for (tabsyn.md §2.1).
//
// Shape legend for the whole folder: B rows in a batch, n numerical columns (the stream's float
// fields), C categorical tokens (the stream's int fields: categories, missing indicators, GMM
// modes), N = 1 + n + C tokens per row ([CLS] first), D the token width, F the feed-forward
// width, K_j the classes of int field j. A batch of tokens (B, N, D) is a Matrix (B·N, D): row
// b·N + t is token t of batch row b.

import TabStream

/// Hyperparameters of the VAE, stored in its model file.
public struct VAEConfig: Codable, Equatable, Sendable {
  /// n, the numerical columns (float fields of the token stream).
  public var numerical: Int
  /// K_j, the classes of each int field (category codes, missing indicators, modes).
  public var categories: [Int]
  /// D, the token width (TabSyn: 4).
  public var width: Int = 4
  /// Transformer layers of each of the three transformers (TabSyn: 2).
  public var layers: Int = 2
  /// Attention heads (TabSyn: 1, with no output projection).
  public var heads: Int = 1
  /// F, the feed-forward width (TabSyn: 32·D = 128).
  public var hidden: Int = 128

  public init(numerical: Int, categories: [Int], width: Int = 4, layers: Int = 2, heads: Int = 1,
    hidden: Int = 128)
  {
    self.numerical = numerical
    self.categories = categories
    self.width = width
    self.layers = layers
    self.heads = heads
    self.hidden = hidden
  }

  /// The configuration for a token stream's layout: every float field is a numerical token and
  /// every int field a categorical one, with the field's cardinality (a missing indicator has 2).
  public init(layout: RowLayout, width: Int = 4, layers: Int = 2, heads: Int = 1, hidden: Int = 128) {
    self.init(
      numerical: layout.floatWidth,
      categories: layout.intFields.map { max($0.cardinality ?? 2, 1) }, width: width,
      layers: layers, heads: heads, hidden: hidden)
  }

  /// N = 1 + n + C.
  public var tokens: Int { 1 + numerical + categories.count }
  /// The decoder's tokens: n + C ([CLS] is dropped).
  public var decoderTokens: Int { numerical + categories.count }
  /// Z = (n + C)·D, the width of a latent row.
  public var latentWidth: Int { decoderTokens * width }
  /// ΣK.
  public var totalCategories: Int { categories.reduce(0, +) }
  /// Column j's logits in the wide logits (B, ΣK).
  public var spans: [Range<Int>] {
    var start = 0
    return categories.map { k in
      defer { start += k }
      return start..<start + k
    }
  }
}

/// Errors of the VAE library that are the input's fault (exit status 65 in the tools).
public struct VAEDataError: BadDataError {
  public var description: String
  public init(_ description: String) { self.description = description }
}
