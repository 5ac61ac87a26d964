// A small ResNet (He et al. 2016, the CIFAR variant's layout at 28×28) for the backdoor examples:
// the architecture family RNP was designed and measured on, at a size TF.js-wasm can train on two
// CPU cores.
import * as tfl from '@tensorflow/tfjs-layers';

/**
 * ResNet-8: a 3×3 stem conv (widths[0]) → BN → ReLU, then one basic block per stage (3 stages,
 * widths[0..2], stride 1 / 2 / 2: 28 → 14 → 7), global average pooling, dense (10), logits.
 * A basic block is conv 3×3 → BN → ReLU → conv 3×3 → BN, plus the shortcut (identity, or a 1×1
 * conv with the stride → BN when the shape changes), added, ReLU. No conv bias (BN follows every
 * conv); 'same' padding; He-normal initializers seeded from `seed`; BN momentum 0.9 (PyTorch's 0.1
 * in its convention), as buildCnn. Layer names are fixed (stem_bn, s2_bn1, s2_short_bn, …) so
 * masks and reports read the same in every process.
 *
 * With widths 16/32/64: 9 BatchNormalization layers, 336 channels, 78 k parameters. No import but
 * tfjs-layers, so the tests can build it too.
 */
export function buildResnet(seed, { widths = [16, 32, 64], inputShape = [28, 28, 1] } = {}) {
  let k = 0;
  const he = () => tfl.initializers.heNormal({ seed: seed * 64 + ++k });
  const conv = (name, filters, kernelSize, strides) =>
    tfl.layers.conv2d({ name, filters, kernelSize, strides, padding: 'same', useBias: false, kernelInitializer: he() });
  const bn = (name) => tfl.layers.batchNormalization({ name, momentum: 0.9 });
  const relu = (name) => tfl.layers.activation({ name, activation: 'relu' });

  const input = tfl.input({ shape: inputShape });
  let x = relu('stem_relu').apply(bn('stem_bn').apply(conv('stem_conv', widths[0], 3, 1).apply(input)));
  let channels = widths[0];
  widths.forEach((w, i) => {
    const s = `s${i + 1}`;
    const stride = i === 0 ? 1 : 2;
    let y = relu(`${s}_relu1`).apply(bn(`${s}_bn1`).apply(conv(`${s}_conv1`, w, 3, stride).apply(x)));
    y = bn(`${s}_bn2`).apply(conv(`${s}_conv2`, w, 3, 1).apply(y));
    const shortcut = stride !== 1 || channels !== w ? bn(`${s}_short_bn`).apply(conv(`${s}_short_conv`, w, 1, stride).apply(x)) : x;
    x = relu(`${s}_relu2`).apply(tfl.layers.add({ name: `${s}_add` }).apply([y, shortcut]));
    channels = w;
  });
  x = tfl.layers.globalAveragePooling2d({ name: 'pool' }).apply(x);
  const logits = tfl.layers
    .dense({ name: 'fc', units: 10, kernelInitializer: tfl.initializers.glorotUniform({ seed: seed * 64 + 63 }) })
    .apply(x);
  return tfl.model({ inputs: input, outputs: logits });
}
